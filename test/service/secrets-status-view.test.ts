import { describe, expect, it } from 'vitest';
import type { EngineStatus, SecretStatus } from '../../src/engine/index.js';
import { createSecretsEngine, defineCatalog, text } from '../../src/engine/index.js';
import { secretsAdminView, secretsHealth, secretsHealthView } from '../../src/service/secrets-status-view.js';
import { FakeClock } from '../support/fake-clock.js';
import { MemorySource } from '../support/memory-source.js';

/** 2026-01-02: one day after the fixtures' last change of ADMIN_TOKEN (rotated every 90 days). */
const NOW_MS = Date.parse('2026-01-02T00:00:00.000Z');

const secret = (over: Partial<SecretStatus> = {}): SecretStatus => ({
  loaded: true,
  required: true,
  hasDefault: false,
  usingDefault: false,
  versionId: 'v-1',
  lastChanged: '2026-01-01T00:00:00.000Z',
  lastRead: '2026-01-01T10:30:00.000Z',
  lastErrorCode: null,
  previousAccepted: false,
  reads: 3,
  ...over,
});

const status = (over: Partial<EngineStatus> = {}): EngineStatus => ({
  initialized: true,
  source: 'aws',
  sourceDescription: 'AWS Secrets Manager',
  region: 'us-east-1',
  regionSince: '2026-01-01T10:00:00.000Z',
  primaryRegion: 'us-east-1',
  regions: ['us-east-1'],
  degraded: null,
  secretsLoaded: 2,
  totalSecrets: 3,
  requiredSecretsOk: true,
  cacheAgeMs: 1234,
  cacheExpired: false,
  ttlMs: 3_600_000,
  lastRefresh: '2026-01-01T10:30:00.000Z',
  lastAnyRefresh: { at: '2026-01-01T10:45:00.000Z', kind: 'names', reason: 'notice' },
  lastAttempt: '2026-01-01T10:30:00.000Z',
  nextRefresh: '2026-01-01T11:00:00.000Z',
  lastErrorCode: null,
  consecutiveFailures: 0,
  refreshing: false,
  secrets: {
    ADMIN_TOKEN: secret(),
    OPENAI_MODEL: secret({ required: false, hasDefault: true, usingDefault: true, versionId: null, lastChanged: null }),
    WHATSAPP_ACCESS_TOKEN: secret({ required: false, loaded: false, versionId: null, lastChanged: null }),
  },
  ...over,
});

describe('secretsHealthView', () => {
  it("has exactly the seed's Monitoring fields, plus the serving region", () => {
    expect(secretsHealthView(status())).toEqual({
      status: 'healthy',
      initialized: true,
      source: 'aws',
      secretsLoaded: 2,
      requiredSecretsOk: true,
      cacheAge: 1234,
      cacheExpired: false,
      lastRefresh: '2026-01-01T10:30:00.000Z',
      placeholders: [],
      region: 'us-east-1',
      regionSince: '2026-01-01T10:00:00.000Z',
      degraded: null,
    });
  });

  it('is degraded and names the replica while a replica region serves', () => {
    const view = secretsHealthView(status({ region: 'us-west-2', degraded: { code: 'SERVED_BY_REPLICA', region: 'us-west-2' } }));

    expect(view).toMatchObject({ status: 'degraded', region: 'us-west-2', degraded: { code: 'SERVED_BY_REPLICA', region: 'us-west-2' } });
  });

  it('names the secrets holding a placeholder, and stays healthy', () => {
    expect(secretsHealthView(status(), ['META_APP_SECRET'])).toMatchObject({ status: 'healthy', placeholders: ['META_APP_SECRET'] });
  });
});

describe('secretsHealth', () => {
  it('is unhealthy before initialization or with a required secret missing', () => {
    expect(secretsHealth(status({ initialized: false }))).toBe('unhealthy');
    expect(secretsHealth(status({ requiredSecretsOk: false }))).toBe('unhealthy');
  });

  it('is degraded while refreshes fail, past the TTL or not', () => {
    expect(secretsHealth(status({ consecutiveFailures: 2, lastErrorCode: 'InternalServiceError' }))).toBe('degraded');
    expect(secretsHealth(status({ cacheExpired: true, consecutiveFailures: 4, lastErrorCode: 'AccessDeniedException' }))).toBe('degraded');
  });

  it('is degraded when the last refresh could not read one secret', () => {
    expect(secretsHealth(status({ lastErrorCode: 'AccessDeniedException' }))).toBe('degraded');
  });
});

describe('secretsAdminView', () => {
  it("has the seed's shape plus version, last refresh, last error, source and rotation per secret", () => {
    const view = secretsAdminView(status(), { nowMs: NOW_MS });

    expect(view).toMatchObject({ status: 'healthy', source: 'AWS Secrets Manager', region: 'us-east-1', totalSecrets: 3 });
    expect(view.secrets.ADMIN_TOKEN).toEqual({
      loaded: true,
      required: true,
      hasDefault: false,
      usingDefault: false,
      versionId: 'v-1',
      lastRefresh: '2026-01-01T10:30:00.000Z',
      lastChanged: '2026-01-01T00:00:00.000Z',
      lastErrorCode: null,
      previousAccepted: false,
      source: 'aws',
      rotation: { schedule: '90 days', everyDays: 90, dueAt: '2026-04-01T00:00:00.000Z', ageDays: 1, state: 'ok' },
      placeholder: false,
    });
  });

  it('marks the secrets holding a placeholder, and lists them', () => {
    const view = secretsAdminView(status({ secrets: { ...status().secrets, META_APP_SECRET: secret() } }), { nowMs: NOW_MS, placeholders: ['META_APP_SECRET'] });

    expect(view.placeholders).toEqual(['META_APP_SECRET']);
    expect(view.secrets.META_APP_SECRET!.placeholder).toBe(true);
    expect(view.secrets.ADMIN_TOKEN!.placeholder).toBe(false);
    expect(view.status).toBe('healthy');
  });

  it('says where each value came from: the store, the default, or nowhere yet', () => {
    const view = secretsAdminView(status({ source: 'env' }), { nowMs: NOW_MS });

    expect(view.secrets.ADMIN_TOKEN!.source).toBe('env');
    expect(view.secrets.OPENAI_MODEL!.source).toBe('default');
    expect(view.secrets.WHATSAPP_ACCESS_TOKEN!.source).toBeNull();
  });

  it('gives rotation n/a, with the schedule, to secrets without a period or without a loaded value', () => {
    const view = secretsAdminView(status({ secrets: { ...status().secrets, META_APP_SECRET: secret() } }), { nowMs: NOW_MS });

    expect(view.secrets.META_APP_SECRET!.rotation).toEqual({ schedule: 'When compromised', everyDays: null, dueAt: null, ageDays: 1, state: 'n/a' });
    expect(view.secrets.WHATSAPP_ACCESS_TOKEN!.rotation).toMatchObject({ schedule: "Per Meta's requirements", state: 'n/a' });
    expect(view.secrets.OPENAI_MODEL!.rotation).toMatchObject({ schedule: '-', state: 'n/a' });
  });

  it('takes the schedules it is given instead of the catalog', () => {
    const view = secretsAdminView(status(), { nowMs: NOW_MS, schedules: { ADMIN_TOKEN: { rotation: { everyDays: 1, method: 'x', schedule: 'daily' } } } });

    expect(view.secrets.ADMIN_TOKEN!.rotation).toEqual({ schedule: 'daily', everyDays: 1, dueAt: '2026-01-02T00:00:00.000Z', ageDays: 1, state: 'due' });
  });

  it('names the env source as the seed does and has no region there', () => {
    const view = secretsAdminView(status({ source: 'env', sourceDescription: 'environment', region: null }), { nowMs: NOW_MS });

    expect(view.source).toBe('Environment variables');
    expect(view.region).toBeNull();
  });

  it('gives no last refresh to a secret whose refresh failed or that uses its default', () => {
    const view = secretsAdminView(status({ secrets: { ADMIN_TOKEN: secret({ lastErrorCode: 'AccessDeniedException' }), OPENAI_MODEL: secret({ usingDefault: true }) } }), { nowMs: NOW_MS });

    expect(view.secrets.ADMIN_TOKEN!.lastRefresh).toBeNull();
    expect(view.secrets.ADMIN_TOKEN!.lastErrorCode).toBe('AccessDeniedException');
    expect(view.secrets.OPENAI_MODEL!.lastRefresh).toBeNull();
  });

  it("gives each secret its own last read from the store, and the instance's last refresh of any kind with its kind", () => {
    const view = secretsAdminView(
      status({ secrets: { ADMIN_TOKEN: secret({ lastRead: '2026-01-01T10:45:00.000Z' }), OPENAI_MODEL: secret({ lastRead: '2026-01-01T10:30:00.000Z' }) } }),
      { nowMs: NOW_MS },
    );

    expect(view.lastRefresh).toBe('2026-01-01T10:30:00.000Z');
    expect(view.lastAnyRefresh).toEqual({ at: '2026-01-01T10:45:00.000Z', kind: 'names', reason: 'notice' });
    expect(view.secrets.ADMIN_TOKEN!.lastRefresh).toBe('2026-01-01T10:45:00.000Z');
    expect(view.secrets.OPENAI_MODEL!.lastRefresh).toBe('2026-01-01T10:30:00.000Z');
  });

  it('drops the read counters', () => {
    expect(JSON.stringify(secretsAdminView(status(), { nowMs: NOW_MS }))).not.toContain('reads');
  });
});

describe('views of an engine whose secret was deleted in the store', () => {
  it('say degraded, with the code in the admin view, while the cached value is served', async () => {
    const clock = new FakeClock();
    const source = new MemorySource(() => clock.now());
    const catalog = defineCatalog({ ADMIN_TOKEN: { kind: text(), required: true, description: 'admin' } });
    source.put('ADMIN_TOKEN', 'canary-admin-deleted-5150', [], clock.now() - 86_400_000);
    const engine = createSecretsEngine({ catalog, source, clock });
    await engine.initialize();
    source.remove('ADMIN_TOKEN');

    await engine.refresh();

    expect(engine.get('ADMIN_TOKEN')).toBe('canary-admin-deleted-5150');
    expect(secretsHealthView(engine.status()).status).toBe('degraded');
    const admin = secretsAdminView(engine.status(), { nowMs: clock.now() });
    expect(admin).toMatchObject({ status: 'degraded', lastErrorCode: 'ResourceNotFoundException' });
    expect(admin.secrets.ADMIN_TOKEN).toMatchObject({ loaded: true, lastErrorCode: 'ResourceNotFoundException' });
    expect(JSON.stringify(admin)).not.toContain('canary-admin-deleted-5150');
  });
});
