import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { INITIAL_REFRESH_STATE, type RefreshState } from '../../src/engine/refresh-machine.js';
import { cellsFor, EMPTY_SNAPSHOT, nextSnapshot, type Snapshot } from '../../src/engine/snapshot.js';
import type { SecretSource } from '../../src/engine/source.js';
import { engineStatus, type StatusInput } from '../../src/engine/status.js';
import { integer, text } from '../../src/engine/value-kinds.js';

const catalog = defineCatalog({
  TOKEN: { kind: text(), required: true, description: 'token', acceptsPrevious: true },
  URL: { kind: text(), required: true, description: 'url' },
  LIMIT: { kind: integer({ min: 1 }), required: false, default: 10, description: 'limit' },
  OPTIONAL: { kind: text(), required: false, description: 'optional' },
});
const T0 = Date.UTC(2026, 0, 1);
const source: SecretSource = { kind: 'aws', description: 'AWS Secrets Manager', region: 'eu-west-1', load: async () => ({ records: [], failures: [] }) };

function loaded(records = [{ name: 'TOKEN', raw: 't2', versionId: 'v2', createdAtMs: T0 - 1_000 }, { name: 'URL', raw: 'u', versionId: 'u1' }], prev: Snapshot = EMPTY_SNAPSHOT, attempt = 1): Snapshot {
  return nextSnapshot(prev, { attempt, entries: catalog.entries, full: true, records, failures: [], previous: new Map() }, T0).snapshot;
}

const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  catalog,
  snapshot: loaded(),
  cells: new Map(),
  refresh: { ...INITIAL_REFRESH_STATE, kind: 'fresh', running: true, dueAtMs: T0 + 60_000 },
  initialized: true,
  source,
  ttlMs: 60_000,
  graceMs: 60_000,
  nowMs: T0 + 5_000,
  lastAttemptMs: T0,
  lastFailureCode: undefined,
  ...over,
});

describe('engineStatus', () => {
  it('names the replica serving, since when, and marks it degraded', () => {
    const status = engineStatus(input({ served: { region: 'eu-central-1', sinceMs: T0 } }));

    expect(status).toMatchObject({
      region: 'eu-central-1',
      regionSince: new Date(T0).toISOString(),
      primaryRegion: 'eu-west-1',
      degraded: { code: 'SERVED_BY_REPLICA', region: 'eu-central-1' },
    });
  });

  it('is not degraded while the primary serves', () => {
    const status = engineStatus(input({ served: { region: 'eu-west-1', sinceMs: T0 } }));

    expect(status).toMatchObject({ region: 'eu-west-1', regionSince: new Date(T0).toISOString(), degraded: null });
  });

  it('reports the engine and every secret, never a value', () => {
    const snapshot = loaded();
    const cells = cellsFor(snapshot.slots, new Map());
    cells.get('TOKEN')!.reads = 7;

    const status = engineStatus(input({ snapshot, cells }));

    expect(status).toEqual({
      initialized: true,
      source: 'aws',
      sourceDescription: 'AWS Secrets Manager',
      region: 'eu-west-1',
      regionSince: null,
      primaryRegion: 'eu-west-1',
      regions: ['eu-west-1'],
      degraded: null,
      secretsLoaded: 3,
      totalSecrets: 4,
      requiredSecretsOk: true,
      cacheAgeMs: 5_000,
      cacheExpired: false,
      ttlMs: 60_000,
      lastRefresh: new Date(T0).toISOString(),
      lastAnyRefresh: null,
      lastAttempt: new Date(T0).toISOString(),
      nextRefresh: new Date(T0 + 60_000).toISOString(),
      lastErrorCode: 'MissingFromSource',
      consecutiveFailures: 0,
      refreshing: false,
      secrets: {
        TOKEN: { loaded: true, required: true, hasDefault: false, usingDefault: false, versionId: 'v2', lastChanged: new Date(T0 - 1_000).toISOString(), lastRead: new Date(T0).toISOString(), lastErrorCode: null, previousAccepted: false, reads: 7 },
        URL: { loaded: true, required: true, hasDefault: false, usingDefault: false, versionId: 'u1', lastChanged: new Date(T0).toISOString(), lastRead: new Date(T0).toISOString(), lastErrorCode: null, previousAccepted: false, reads: 0 },
        LIMIT: { loaded: true, required: false, hasDefault: true, usingDefault: true, versionId: null, lastChanged: null, lastRead: null, lastErrorCode: 'MissingFromSource', previousAccepted: false, reads: 0 },
        OPTIONAL: { loaded: false, required: false, hasDefault: false, usingDefault: false, versionId: null, lastChanged: null, lastRead: null, lastErrorCode: 'MissingFromSource', previousAccepted: false, reads: 0 },
      },
    });
    expect(JSON.stringify(status)).not.toMatch(/"t2"|"u"/);
  });

  it('reports the last refresh of any kind with its kind and reason', () => {
    expect(engineStatus(input({ lastAnyRefresh: { atMs: T0 + 9_000, kind: 'names', reason: 'notice' } })).lastAnyRefresh).toEqual({
      at: new Date(T0 + 9_000).toISOString(),
      kind: 'names',
      reason: 'notice',
    });
  });

  it('puts the last whole failure before any secret’s error, and counts failures', () => {
    const refresh: RefreshState = { ...INITIAL_REFRESH_STATE, kind: 'backingOff', running: true, failures: 3, dueAtMs: T0 + 15_000 };
    expect(engineStatus(input({ refresh, lastFailureCode: 'ThrottlingException' }))).toMatchObject({
      lastErrorCode: 'ThrottlingException',
      consecutiveFailures: 3,
      nextRefresh: new Date(T0 + 15_000).toISOString(),
    });
  });

  it('shows no next refresh while one runs or while expired, and says when one runs', () => {
    for (const kind of ['refreshing', 'expired', 'closed'] as const) {
      const status = engineStatus(input({ refresh: { ...INITIAL_REFRESH_STATE, kind, dueAtMs: T0 } }));
      expect(status.nextRefresh).toBeNull();
      expect(status.refreshing).toBe(kind === 'refreshing');
    }
  });

  it('is expired from the TTL on, and before any load', () => {
    expect(engineStatus(input({ nowMs: T0 + 59_999 })).cacheExpired).toBe(false);
    expect(engineStatus(input({ nowMs: T0 + 60_000 }))).toMatchObject({ cacheExpired: true, cacheAgeMs: 60_000 });
    expect(engineStatus(input({ snapshot: EMPTY_SNAPSHOT }))).toMatchObject({ cacheExpired: true, cacheAgeMs: null, lastRefresh: null, secretsLoaded: 0 });
  });

  it('says required secrets are fine only once initialized and while each has a value', () => {
    expect(engineStatus(input({ initialized: false })).requiredSecretsOk).toBe(false);
    const noToken = loaded([{ name: 'URL', raw: 'u', versionId: 'u1' }]);
    expect(engineStatus(input({ snapshot: noToken })).requiredSecretsOk).toBe(false);
    expect(engineStatus(input({ snapshot: EMPTY_SNAPSHOT, initialized: false, lastAttemptMs: undefined }))).toMatchObject({
      requiredSecretsOk: false,
      lastAttempt: null,
      region: 'eu-west-1',
    });
  });

  it('shows whether the previous value is accepted, and a null region for a source without one', () => {
    const rotated = loaded([{ name: 'TOKEN', raw: 't3', versionId: 'v3', createdAtMs: T0 }, { name: 'URL', raw: 'u', versionId: 'u1' }], loaded(), 2);
    const status = engineStatus(input({ snapshot: rotated, source: { ...source, region: undefined } }));

    expect(status.secrets.TOKEN!.previousAccepted).toBe(true);
    expect(status.region).toBeNull();
    expect(engineStatus(input({ snapshot: rotated, nowMs: T0 + 60_000 })).secrets.TOKEN!.previousAccepted).toBe(false);
  });
});

describe('engineStatus before any load', () => {
  it('reports no secret as using its default', () => {
    const status = engineStatus(input({ snapshot: EMPTY_SNAPSHOT, refresh: INITIAL_REFRESH_STATE, initialized: false, graceMs: 0, nowMs: 0, lastAttemptMs: undefined }));

    expect(status.secrets.LIMIT).toMatchObject({ usingDefault: false, loaded: false });
  });
});
