import { describe, expect, it } from 'vitest';
import { createAwsSource } from '../../src/engine/aws-source.js';
import { defineCatalog } from '../../src/engine/catalog.js';
import { SourceError } from '../../src/engine/errors.js';
import { INITIAL_REFRESH_STATE } from '../../src/engine/refresh-machine.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { EMPTY_SNAPSHOT, nextSnapshot, type AttemptResult } from '../../src/engine/snapshot.js';
import { engineStatus } from '../../src/engine/status.js';
import { startUp } from '../../src/engine/startup.js';
import { integer, text } from '../../src/engine/value-kinds.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { awsError, FakeSecretsManagerClient } from '../support/fake-secrets-manager-client.js';
import { MemorySource } from '../support/memory-source.js';

/**
 * Boundaries that mutation testing showed no other test pinned down: exact batch sizes, the cause
 * kept on a whole failure, an abort during the batch call, version changes without a value change.
 */
const catalog = defineCatalog({
  TOKEN: { kind: text(), required: true, description: 'token', acceptsPrevious: true },
  URL: { kind: text(), required: true, description: 'url' },
  LIMIT: { kind: integer({ min: 1 }), required: false, default: 10, description: 'limit' },
});
const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ ...catalog.entries[1]!, name: `S_${i}`, awsId: `p/e/s-${i}` }));
const ok = (id: string) => ({ Name: id, SecretString: 'v', VersionStages: ['AWSCURRENT'] });

describe('AWS source boundaries', () => {
  it('makes exactly two batch calls for 40 secrets, and says once that a denied batch falls back', async () => {
    const fake = new FakeSecretsManagerClient();
    const logger = captureLogger();
    fake.onBatch = (ids) => ({ SecretValues: ids.map(ok) });
    const source = createAwsSource({ client: fake.asClient(), region: 'r', logger, clock: new FakeClock() });

    await source.load(entries(40), new AbortController().signal);
    expect(fake.calls.map((c) => c.ids.length)).toEqual([20, 20]);

    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };
    fake.onGet = (id) => ok(id);
    const result = await source.load(entries(40), new AbortController().signal);
    expect(result.records).toHaveLength(40);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.batch_denied')).toHaveLength(1);
  });

  it('says again that it falls back when the batch is denied again exactly at its retry time', async () => {
    const fake = new FakeSecretsManagerClient();
    const logger = captureLogger();
    const clock = new FakeClock();
    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };
    fake.onGet = (id) => ok(id);
    const source = createAwsSource({ client: fake.asClient(), region: 'r', logger, clock, batchRetryMs: 1_000 });

    await source.load(entries(2), new AbortController().signal);
    await clock.advance(1_000);
    await source.load(entries(2), new AbortController().signal);

    expect(fake.calls.filter((c) => c.operation === 'BatchGetSecretValue')).toHaveLength(2);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.batch_denied')).toHaveLength(2);
  });

  it('keeps the SDK error as the cause of a whole failure', async () => {
    const fake = new FakeSecretsManagerClient();
    const denied = awsError('InternalServiceError', 500);
    fake.onBatch = () => {
      throw denied;
    };
    const source = createAwsSource({ client: fake.asClient(), region: 'r' });

    const err = await source.load(entries(2), new AbortController().signal).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).cause).toBe(denied);
  });

  it('hands the abort signal to the batch call, so a deadline ends it', async () => {
    const fake = new FakeSecretsManagerClient();
    const abort = new AbortController();
    fake.onBatch = () => {
      abort.abort(new Error('deadline'));
      return new Promise(() => {});
    };
    const source = createAwsSource({ client: fake.asClient(), region: 'r' });

    await expect(source.load(entries(1), abort.signal)).rejects.toThrow('deadline');
  });
});

describe('snapshot boundaries', () => {
  let seq = 0;
  const result = (records: AttemptResult['records']): AttemptResult => ({ attempt: ++seq, entries: catalog.entries, full: true, records, failures: [], previous: new Map() });

  it('reports a new version of the same value as a change, with its own creation as the change time', () => {
    const first = nextSnapshot(EMPTY_SNAPSHOT, result([{ name: 'TOKEN', raw: 'same', versionId: 'v1', createdAtMs: 1_000 }, { name: 'URL', raw: 'u' }]), 5_000).snapshot;
    const merged = nextSnapshot(first, result([{ name: 'TOKEN', raw: 'same', versionId: 'v2', createdAtMs: 4_000 }, { name: 'URL', raw: 'u' }]), 6_000);

    expect(merged.changed).toEqual([{ name: 'TOKEN', versionId: 'v2', previousVersionId: 'v1' }]);
    expect(merged.snapshot.slots.get('TOKEN')!.sinceMs).toBe(4_000);
  });

  it('starts a new window and keeps the old value as previous when a value without version ids changes', () => {
    const first = nextSnapshot(EMPTY_SNAPSHOT, result([{ name: 'TOKEN', raw: 'a' }, { name: 'URL', raw: 'u' }]), 1_000).snapshot;
    const next = nextSnapshot(first, result([{ name: 'TOKEN', raw: 'b' }, { name: 'URL', raw: 'u' }]), 2_000).snapshot;

    expect(next.slots.get('TOKEN')).toMatchObject({ sinceMs: 2_000, previous: { raw: 'a', versionId: undefined } });
  });
});

describe('status and start-up boundaries', () => {
  it('reports no secret as using its default before any load', () => {
    const status = engineStatus({
      catalog,
      snapshot: EMPTY_SNAPSHOT,
      cells: new Map(),
      refresh: INITIAL_REFRESH_STATE,
      initialized: false,
      source: new MemorySource(() => 0),
      ttlMs: 60_000,
      graceMs: 0,
      nowMs: 0,
      lastAttemptMs: undefined,
      lastFailureCode: undefined,
    });
    expect(status.secrets.LIMIT).toMatchObject({ usingDefault: false, loaded: false });
  });

  it('gives up when the next retry would land exactly at the deadline, and says how long it tried', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    let attempts = 0;
    const done = startUp({
      clock,
      logger,
      timeoutMs: 15_000,
      attemptTimeoutMs: 8_000,
      backoff: { baseMs: 1_000, capMs: 8_000 },
      random: () => 1,
      attempt: async () => {
        attempts++;
        return { ok: false, reason: 'startup', code: 'InternalServiceError', transient: true };
      },
      problems: () => [],
      closed: new AbortController().signal,
    }).catch((e: unknown) => e);
    await clock.advance(20_000);
    await done;

    expect(attempts).toBe(4);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.startup_gave_up')?.obj).toMatchObject({ attempts: 4, elapsedMs: 7_000 });
  });

  it('logs no missing-secrets line when start-up fails for another reason', async () => {
    const clock = new FakeClock();
    const source = new MemorySource(() => clock.now());
    source.failAll = new SourceError('AccessDeniedException', false);
    const logger = captureLogger();
    const engine = createSecretsEngine({ catalog, source, clock, logger });

    await engine.initialize().catch(() => {});

    expect(logger.lines.filter((l) => l.obj.event === 'secrets.missing_required')).toEqual([]);
    expect(() => (engine.get as (n: string) => unknown)('NOPE')).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID_CONFIG' }));
  });
});

describe('catalog error codes', () => {
  it('raises SECRETS_INVALID_CONFIG for every catalog mistake', () => {
    const mistakes = [
      () => defineCatalog({ bad: { kind: text(), required: false, description: 'x' } }),
      () => defineCatalog({ A: { kind: text(), required: true, default: 'x', description: 'x' } }),
      () => defineCatalog({ A_B: { kind: text(), required: false, description: 'x' }, C: { kind: text(), required: false, description: 'x', awsName: 'a-b' } }),
    ];
    for (const mistake of mistakes) expect(mistake).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID_CONFIG' }));
  });
});
