import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { MissingSecretsError, SourceError } from '../../src/engine/errors.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { IMMEDIATE_ROTATION_STAGE } from '../../src/engine/source.js';
import { integer, postgresUrl, text } from '../../src/engine/value-kinds.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock, settle } from '../support/fake-clock.js';
import { MemorySource } from '../support/memory-source.js';

const HOUR = 3_600_000;

const smallCatalog = () =>
  defineCatalog({
    ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true },
    DATABASE_URL: { kind: postgresUrl(), required: true, description: 'db' },
    MAX_TOKENS: { kind: integer({ min: 1 }), required: false, default: 1000, description: 'max' },
    OPTIONAL_KEY: { kind: text(), required: false, description: 'optional' },
  });

function setup(opts: { ttlMs?: number; graceMs?: number; random?: () => number; autoRefresh?: boolean } = {}) {
  const clock = new FakeClock();
  const source = new MemorySource(() => clock.now());
  const logger = captureLogger();
  const dayAgo = clock.now() - 24 * HOUR;
  source.put('ADMIN_TOKEN', 'admin-v1', [], dayAgo);
  source.put('DATABASE_URL', 'postgresql://app@db.internal:5432/app', [], dayAgo);
  const engine = createSecretsEngine({
    catalog: smallCatalog(),
    source,
    clock,
    logger,
    ttlMs: opts.ttlMs ?? HOUR,
    graceMs: opts.graceMs ?? 60_000,
    random: opts.random ?? (() => 0.5),
    attemptTimeoutMs: 5_000,
    ...(opts.autoRefresh !== undefined && { autoRefresh: opts.autoRefresh }),
  });
  return { clock, source, logger, engine };
}

describe('SecretsEngine start-up', () => {
  it('loads every secret once and serves typed values with defaults for the optional ones', async () => {
    const { engine, source } = setup();
    await engine.initialize();

    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(engine.get('MAX_TOKENS')).toBe(1000);
    expect(engine.get('OPTIONAL_KEY')).toBeUndefined();
    expect(source.calls).toEqual([{ op: 'load', names: ['ADMIN_TOKEN', 'DATABASE_URL', 'MAX_TOKENS', 'OPTIONAL_KEY'] }]);
  });

  it('parses a stored integer into a number', async () => {
    const { engine, source } = setup();
    source.put('MAX_TOKENS', '250');
    await engine.initialize();
    expect(engine.get('MAX_TOKENS')).toBe(250);
  });

  it('fails with one error naming every missing or invalid required secret and no value', async () => {
    const clock = new FakeClock();
    const source = new MemorySource(() => clock.now());
    source.put('DATABASE_URL', 'mysql://canary-db-value-7781@host/x');
    const logger = captureLogger();
    const engine = createSecretsEngine({ catalog: smallCatalog(), source, clock, logger });

    const err = await engine.initialize().then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(MissingSecretsError);
    const problems = (err as MissingSecretsError).problems;
    expect(problems.map((p) => p.name)).toEqual(['ADMIN_TOKEN', 'DATABASE_URL']);
    expect(problems[0]!.reason).toBe('missing');
    expect(problems[1]!.reason).toMatch(/invalid: wrong scheme/);
    expect((err as Error).message).toContain('ADMIN_TOKEN');
    expect(`${(err as Error).message}${logger.text()}`).not.toContain('canary-db-value-7781');
    expect(clock.pending()).toEqual([]);
  });

  it('falls back to the default when an optional value is invalid, without echoing it', async () => {
    const { engine, source, logger } = setup();
    source.put('MAX_TOKENS', 'canary-not-a-number-5521');
    await engine.initialize();

    expect(engine.get('MAX_TOKENS')).toBe(1000);
    expect(engine.status().secrets.MAX_TOKENS!.lastErrorCode).toBe('InvalidValue');
    expect(logger.text()).toContain('not an integer');
    expect(logger.text()).not.toContain('canary-not-a-number-5521');
  });

  it('rejects with a SourceError when the source cannot be read at all', async () => {
    const { engine, source } = setup();
    source.failAll = new SourceError('AccessDeniedException', false);
    await expect(engine.initialize()).rejects.toMatchObject({ code: 'SECRETS_SOURCE_FAILED', sourceCode: 'AccessDeniedException' });
  });
});

describe('SecretsEngine refresh', () => {
  it('schedules the next refresh across [TTL/2, TTL] and swaps the snapshot whole', async () => {
    const { engine, source, clock } = setup({ random: () => 0.25 });
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2');

    await clock.advance(HOUR * 0.625 - 1);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    await clock.advance(1);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v2');
    expect(source.calls.filter((c) => c.op === 'load')).toHaveLength(2);
  });

  it('spreads scheduled refreshes of many instances across the whole window', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const firsts: number[] = [];
    for (let i = 0; i < 500; i++) {
      const { engine, clock } = setup({ random });
      const start = clock.now();
      await engine.initialize();
      firsts.push(engine.status().nextRefresh === null ? NaN : Date.parse(engine.status().nextRefresh!) - start);
    }
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(HOUR / 2);
    expect(Math.max(...firsts)).toBeLessThanOrEqual(HOUR);
    const buckets = new Array<number>(10).fill(0);
    for (const t of firsts) buckets[Math.min(9, Math.floor(((t - HOUR / 2) / (HOUR / 2)) * 10))]!++;
    // Uniform over 500 instances: every tenth of the window gets a real share (expected 50).
    for (const b of buckets) expect(b).toBeGreaterThan(25);
  });

  it('calls the source at most twice an hour in a steady day of reads', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const { engine, source, clock } = setup({ random });
    await engine.initialize();

    for (let minute = 0; minute < 24 * 60; minute++) {
      for (let i = 0; i < 100; i++) engine.get('ADMIN_TOKEN');
      await clock.advance(60_000);
    }

    const loads = source.calls.filter((c) => c.op === 'load').length - 1;
    expect(loads).toBeGreaterThanOrEqual(24);
    expect(loads).toBeLessThanOrEqual(48);
    expect(engine.status().cacheExpired).toBe(false);
  });

  it('starts one background refresh on the first read after expiry and blocks no read', async () => {
    const { engine, source, clock } = setup({ autoRefresh: false });
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2');
    await clock.advance(HOUR);

    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(engine.get('ADMIN_TOKEN'));
    expect(seen).toEqual(new Set(['admin-v1']));
    await settle();

    expect(source.calls.filter((c) => c.op === 'load')).toHaveLength(2);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v2');
  });

  it('joins callers of refresh() onto the one refresh in flight', async () => {
    const { engine, source } = setup();
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2');

    const outcomes = await Promise.all([engine.refresh(), engine.refresh(), engine.refresh()]);

    expect(source.calls.filter((c) => c.op === 'load')).toHaveLength(2);
    expect(new Set(outcomes).size).toBe(1);
    expect(outcomes[0]).toMatchObject({ ok: true, reason: 'forced', changed: [{ name: 'ADMIN_TOKEN', versionId: 'v3', previousVersionId: 'v1' }] });
  });

  it('keeps every cached value when a refresh fails, and reports the error code', async () => {
    const { engine, source, logger } = setup();
    await engine.initialize();
    source.failAll = new SourceError('ECONNREFUSED', true);

    const outcome = await engine.refresh();

    expect(outcome).toEqual({ ok: false, reason: 'forced', code: 'ECONNREFUSED', transient: true });
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(engine.get('DATABASE_URL')).toBe('postgresql://app@db.internal:5432/app');
    expect(engine.status()).toMatchObject({ lastErrorCode: 'ECONNREFUSED', consecutiveFailures: 1, secretsLoaded: 3 });
    expect(logger.lines.find((l) => l.obj.event === 'secrets.refresh_failed')?.level).toBe('warn');
  });

  it('reports denial at error level while still serving the cached values', async () => {
    const { engine, source, logger } = setup();
    await engine.initialize();
    source.failAll = new SourceError('AccessDeniedException', false);

    await engine.refresh();

    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(logger.lines.find((l) => l.obj.event === 'secrets.refresh_failed')).toMatchObject({
      level: 'error',
      obj: { code: 'AccessDeniedException' },
    });
  });

  it('updates the secrets that loaded and keeps the last good value of the one that failed', async () => {
    const { engine, source, logger } = setup();
    source.put('OPTIONAL_KEY', 'optional-v1');
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2');
    source.put('OPTIONAL_KEY', 'optional-v2');
    source.failSecret.set('DATABASE_URL', { name: 'DATABASE_URL', code: 'DecryptionFailure', transient: false });

    const outcome = await engine.refresh();

    expect(outcome.ok).toBe(true);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v2');
    expect(engine.get('OPTIONAL_KEY')).toBe('optional-v2');
    expect(engine.get('DATABASE_URL')).toBe('postgresql://app@db.internal:5432/app');
    expect(engine.status().secrets.DATABASE_URL).toMatchObject({ loaded: true, lastErrorCode: 'DecryptionFailure' });
    expect(logger.lines.find((l) => l.obj.event === 'secrets.secret_failed')).toMatchObject({
      level: 'error',
      obj: { name: 'DATABASE_URL', code: 'DecryptionFailure', keptCachedValue: true },
    });
  });

  it('backs off through a five-minute outage at one attempt every 10-20 s and resets on the first success', async () => {
    const { engine, source, clock } = setup({ random: () => 1 });
    await engine.initialize();
    await clock.advance(HOUR); // the scheduled refresh (random 1 → at TTL) succeeds
    const before = source.calls.length;
    source.failAll = new SourceError('ServiceUnavailable', true);

    const gaps: number[] = [];
    let last = clock.now();
    await engine.refresh();
    for (let t = 0; t < 300_000; t += 1_000) {
      const n = source.calls.length;
      await clock.advance(1_000);
      if (source.calls.length > n) {
        gaps.push(clock.now() - last);
        last = clock.now();
      }
    }
    const attempts = source.calls.length - before;

    expect(attempts).toBeGreaterThanOrEqual(15);
    expect(attempts).toBeLessThanOrEqual(31);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(10_000);
      expect(gap).toBeLessThanOrEqual(20_000);
    }
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(engine.status()).toMatchObject({ consecutiveFailures: attempts, lastErrorCode: 'ServiceUnavailable' });

    source.failAll = undefined;
    await clock.advance(20_000);
    expect(engine.status()).toMatchObject({ consecutiveFailures: 0, lastErrorCode: null });
    expect(Date.parse(engine.status().nextRefresh!) - clock.now()).toBeGreaterThanOrEqual(HOUR - 20_000);
  });

  it('ends an attempt against a source that never answers at the deadline and keeps the values', async () => {
    const { engine, source, clock } = setup();
    await engine.initialize();
    source.hang = true;

    const pending = engine.refresh();
    await clock.advance(5_000);
    const outcome = await pending;

    expect(outcome).toMatchObject({ ok: false, code: 'AttemptTimeout', transient: true });
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(engine.status().refreshing).toBe(false);
  });

  it('stops scheduling after close()', async () => {
    const { engine, clock } = setup();
    await engine.initialize();
    engine.close();
    expect(clock.pending()).toEqual([]);
    await expect(engine.refresh()).resolves.toMatchObject({ ok: false, code: 'Closed' });
  });
});

describe('SecretsEngine rotation', () => {
  it('accepts the previous value within the grace window after a rotation, then only the current', async () => {
    const { engine, source, clock } = setup({ graceMs: 60_000 });
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2');

    await engine.refresh();
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v2', 'admin-v1']);
    expect(engine.status().secrets.ADMIN_TOKEN!.previousAccepted).toBe(true);

    await clock.advance(60_000);
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v2']);
  });

  it('fetches AWSPREVIOUS at start-up only while the grace window of the current version is open', async () => {
    const { engine, source, clock } = setup({ graceMs: 60_000 });
    source.put('ADMIN_TOKEN', 'admin-v2');
    await clock.advance(1_000);
    await engine.initialize();

    expect(source.calls.map((c) => c.op)).toEqual(['load', 'loadPrevious']);
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v2', 'admin-v1']);

    const late = setup({ graceMs: 60_000 });
    late.source.put('ADMIN_TOKEN', 'admin-v2');
    await late.clock.advance(61_000);
    await late.engine.initialize();
    expect(late.source.calls.map((c) => c.op)).toEqual(['load']);
    expect(late.engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v2']);
  });

  it('refuses the previous value at once after an immediate rotation', async () => {
    const { engine, source } = setup({ graceMs: 60_000 });
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2', [IMMEDIATE_ROTATION_STAGE]);

    await engine.refresh();

    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v2']);
  });

  it('never offers a previous value for a secret that does not accept one', async () => {
    const { engine, source } = setup();
    await engine.initialize();
    source.put('DATABASE_URL', 'postgresql://app@db2.internal:5432/app');
    await engine.refresh();
    expect(engine.accepted('DATABASE_URL')).toEqual(['postgresql://app@db2.internal:5432/app']);
  });

  it('logs the changed names and version ids of a refresh, never the values', async () => {
    const { engine, source, logger } = setup();
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'canary-rotated-admin-9931');

    await engine.refresh();

    const line = logger.lines.find((l) => l.obj.event === 'secrets.refreshed');
    expect(line?.obj.changed).toEqual([{ name: 'ADMIN_TOKEN', versionId: 'v3' }]);
    expect(logger.text()).not.toContain('canary-rotated-admin-9931');
    expect(logger.text()).not.toContain('admin-v1');
  });
});

describe('SecretsEngine status', () => {
  it('reports what health endpoints need and counts reads, without any value', async () => {
    const { engine, clock } = setup();
    await engine.initialize();
    engine.get('ADMIN_TOKEN');
    engine.get('ADMIN_TOKEN');
    await clock.advance(1_234);

    const status = engine.status();

    expect(status).toMatchObject({
      initialized: true,
      source: 'aws',
      region: 'test-1',
      secretsLoaded: 3,
      totalSecrets: 4,
      requiredSecretsOk: true,
      cacheAgeMs: 1_234,
      cacheExpired: false,
      consecutiveFailures: 0,
    });
    expect(status.secrets.ADMIN_TOKEN).toMatchObject({ loaded: true, required: true, hasDefault: false, versionId: 'v1', reads: 2 });
    expect(status.secrets.MAX_TOKENS).toMatchObject({ loaded: true, usingDefault: true, hasDefault: true });
    expect(status.secrets.OPTIONAL_KEY).toMatchObject({ loaded: false, lastErrorCode: null });
    expect(JSON.stringify(status)).not.toMatch(/admin-v1|db\.internal/);
  });

  it('declares the seed guide catalog with AWS ids under the project prefix', () => {
    const catalog = whatsappSaasCatalog();
    expect(catalog.entries).toHaveLength(11);
    expect(catalog.entry('ADMIN_TOKEN')?.awsId).toBe('whatsapp-saas/mvp/admin-token');
    expect(catalog.entry('OPENAI_MAX_TOKENS')?.spec.default).toBe(1000);
    expect(whatsappSaasCatalog({ project: 'acme', environment: 'prod' }).entry('REDIS_URL')?.awsId).toBe('acme/prod/redis-url');
    expect(catalog.nameForAwsId('arn:aws:secretsmanager:us-east-1:123456789012:secret:whatsapp-saas/mvp/meta-app-secret-AbC123')).toBe(
      'META_APP_SECRET',
    );
  });
});

describe('SecretsEngine misuse', () => {
  it('throws a clear error for a read before initialize() and for a name outside the catalog', async () => {
    const { engine } = setup();
    expect(() => engine.get('ADMIN_TOKEN')).toThrow(/read before initialize/);
    await engine.initialize();
    expect(() => (engine.get as (n: string) => unknown)('NOT_IN_CATALOG')).toThrow(/Unknown secret "NOT_IN_CATALOG"/);
  });
});

describe('SecretsEngine without timers (autoRefresh: false)', () => {
  it('starts the next attempt on a read once the backoff delay has passed, and picks up a rotation after an outage', async () => {
    const { engine, source, clock } = setup({ autoRefresh: false });
    await engine.initialize();
    source.failAll = new SourceError('ServiceUnavailable', true);
    await clock.advance(HOUR);
    const loadsDuringOutage = () => source.calls.filter((c) => c.op === 'load').length - 1;

    for (let minute = 0; minute < 60; minute++) {
      engine.get('ADMIN_TOKEN');
      await clock.advance(60_000);
    }
    const outageLoads = loadsDuringOutage();
    source.failAll = undefined;
    source.put('ADMIN_TOKEN', 'admin-v2');
    for (let minute = 0; minute < 3; minute++) {
      engine.get('ADMIN_TOKEN');
      await clock.advance(60_000);
    }

    expect(outageLoads).toBeGreaterThanOrEqual(30);
    expect(outageLoads).toBeLessThanOrEqual(60);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v2');
    expect(engine.status().consecutiveFailures).toBe(0);
    expect(clock.pending().length).toBeLessThanOrEqual(1);
  });
});

describe('SecretsEngine single flight', () => {
  it('runs one load when initialize() and refresh() are called together', async () => {
    const { engine, source } = setup();

    await Promise.all([engine.initialize(), engine.refresh()]);

    expect(source.calls.filter((c) => c.op === 'load')).toHaveLength(1);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
  });

  it('never lets an older attempt that finishes last overwrite a newer value', async () => {
    const { engine, source } = setup();
    source.hold();
    const init = engine.initialize();
    await settle();
    source.put('ADMIN_TOKEN', 'admin-v2');
    const fresh = engine.refresh({ fresh: true });
    await settle();

    source.release('newest');
    await settle();
    source.release('oldest');
    await Promise.all([init, fresh]);

    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v2');
    expect(engine.status().secrets.ADMIN_TOKEN!.versionId).toBe('v3');
  });
});

describe('SecretsEngine and a secret deleted from the store', () => {
  it('keeps serving the cached value of a deleted secret and reports it with its code', async () => {
    const { engine, source, logger } = setup();
    await engine.initialize();
    source.remove('ADMIN_TOKEN');

    const outcome = await engine.refresh();

    expect(outcome.ok).toBe(true);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(engine.status()).toMatchObject({ lastErrorCode: 'ResourceNotFoundException', requiredSecretsOk: true });
    expect(engine.status().secrets.ADMIN_TOKEN).toMatchObject({ loaded: true, lastErrorCode: 'ResourceNotFoundException' });
    expect(logger.lines.find((l) => l.obj.event === 'secrets.secret_failed')).toMatchObject({
      level: 'error',
      obj: { name: 'ADMIN_TOKEN', code: 'ResourceNotFoundException', keptCachedValue: true },
    });
  });

  it('stays healthy for an optional secret that never had a value', async () => {
    const { engine } = setup();
    await engine.initialize();
    await engine.refresh();
    expect(engine.status()).toMatchObject({ lastErrorCode: null, consecutiveFailures: 0 });
  });
});

describe('SecretsEngine after a failed start-up', () => {
  it('refuses reads of every secret with SECRETS_NOT_INITIALIZED', async () => {
    const { engine, source } = setup();
    source.remove('ADMIN_TOKEN');
    await expect(engine.initialize()).rejects.toBeInstanceOf(MissingSecretsError);

    expect(() => engine.get('ADMIN_TOKEN')).toThrow(expect.objectContaining({ code: 'SECRETS_NOT_INITIALIZED' }));
    expect(() => engine.get('DATABASE_URL')).toThrow(expect.objectContaining({ code: 'SECRETS_NOT_INITIALIZED' }));
  });
});

describe('SecretsEngine options', () => {
  it('refuses a TTL below the floor, naming the option', () => {
    const clock = new FakeClock();
    const make = (ttlMs: number) => () => createSecretsEngine({ catalog: smallCatalog(), source: new MemorySource(() => clock.now()), clock, ttlMs });
    expect(make(1)).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID_CONFIG', message: expect.stringContaining('ttlMs') }));
    expect(make(9_999)).toThrow(/ttlMs/);
    expect(make(10_000)).not.toThrow();
  });
});

describe('SecretsEngine rollback', () => {
  async function rotatedThenSeen(opts: { graceMs: number }) {
    const ctx = setup(opts);
    await ctx.engine.initialize();
    ctx.source.put('ADMIN_TOKEN', 'admin-v2', [IMMEDIATE_ROTATION_STAGE]);
    await ctx.engine.refresh();
    await ctx.clock.advance(5 * 60_000);
    return ctx;
  }

  it('keeps the rolled-away-from value for the grace window after a graceful rollback, counted from when it was seen', async () => {
    const { engine, source, clock } = await rotatedThenSeen({ graceMs: 60_000 });
    source.rollback('ADMIN_TOKEN', { immediate: false });

    await engine.refresh();
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v1', 'admin-v2']);
    await clock.advance(59_999);
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v1', 'admin-v2']);
    await clock.advance(1);

    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v1']);
  });

  it('refuses the rolled-away-from value at the next refresh after an immediate rollback', async () => {
    const { engine, source } = await rotatedThenSeen({ graceMs: 60_000 });
    source.rollback('ADMIN_TOKEN', { immediate: true });

    await engine.refresh();

    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v1']);
    expect(engine.status().secrets.ADMIN_TOKEN).toMatchObject({ versionId: 'v1', previousAccepted: false });
  });
});

describe('SecretsEngine through an outage', () => {
  it('makes at most one attempt per 10 s and sees the store again within 30 s of its return', async () => {
    const { engine, source, clock } = setup();
    await engine.initialize();
    source.failAll = new SourceError('ServiceUnavailable', true);
    const startedAt: number[] = [];
    engine.onRefresh(() => startedAt.push(Date.parse(engine.status().lastAttempt!)));

    await engine.refresh();
    await clock.advance(5 * 60_000);
    source.failAll = undefined;
    const back = clock.now();
    await clock.advance(30_000);

    const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]!);
    expect(Math.min(...gaps.slice(0, -1))).toBeGreaterThanOrEqual(10_000);
    expect(engine.status()).toMatchObject({ consecutiveFailures: 0, lastErrorCode: null });
    expect(Date.parse(engine.status().lastRefresh!) - back).toBeLessThanOrEqual(30_000);
  });
});

describe('SecretsEngine start-up against a throttled or failing store', () => {
  it('retries transient failures with backoff until the store answers, within the start-up deadline', async () => {
    const { engine, source, clock } = setup();
    source.failAll = new SourceError('ThrottlingException', true);
    const init = engine.initialize();
    await clock.advance(10_000);
    source.failAll = undefined;
    await clock.advance(10_000);

    await expect(init).resolves.toBeUndefined();
    expect(source.calls.filter((c) => c.op === 'load').length).toBeGreaterThan(2);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
  });

  it('gives up at the start-up deadline with the code', async () => {
    const { engine, source, clock } = setup();
    source.failAll = new SourceError('ThrottlingException', true);
    const init = engine.initialize().catch((e: unknown) => e);
    await clock.advance(30_000);

    expect(await init).toMatchObject({ code: 'SECRETS_SOURCE_FAILED', sourceCode: 'ThrottlingException' });
  });

  it('fails at once on denial', async () => {
    const { engine, source } = setup();
    source.failAll = new SourceError('AccessDeniedException', false);
    await expect(engine.initialize()).rejects.toMatchObject({ sourceCode: 'AccessDeniedException' });
    expect(source.calls).toHaveLength(1);
  });
});

describe('SecretsEngine refresh({ names, fresh, reason })', () => {
  it('reads only the named secrets, one call each, and merges them into the snapshot', async () => {
    const { engine, source } = setup();
    source.put('OPTIONAL_KEY', 'optional-v1');
    await engine.initialize();
    const loadedAt = engine.status().lastRefresh;
    source.put('ADMIN_TOKEN', 'admin-v2');
    source.put('DATABASE_URL', 'postgresql://app@db2.internal:5432/app');

    const outcome = await engine.refresh({ names: ['DATABASE_URL'], reason: 'auth-failure' });

    expect(source.calls.at(-1)).toEqual({ op: 'loadIndividually', names: ['DATABASE_URL'] });
    expect(outcome).toMatchObject({ ok: true, reason: 'auth-failure', names: ['DATABASE_URL'], changed: [{ name: 'DATABASE_URL' }] });
    expect(engine.get('DATABASE_URL')).toBe('postgresql://app@db2.internal:5432/app');
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v1');
    expect(engine.get('OPTIONAL_KEY')).toBe('optional-v1');
    expect(engine.status().lastRefresh).toBe(loadedAt);
  });

  it('with fresh, starts a new attempt after the one in flight rather than joining it, and joins none that started before', async () => {
    const { engine, source } = setup();
    await engine.initialize();
    source.hold();
    const early = engine.refresh();
    await settle();
    source.put('ADMIN_TOKEN', 'admin-v2');

    const notices = [
      engine.refresh({ names: ['ADMIN_TOKEN'], fresh: true, reason: 'notice' }),
      engine.refresh({ names: ['ADMIN_TOKEN'], fresh: true, reason: 'notice' }),
    ];
    source.release();
    const [first, second] = await Promise.all(notices);

    expect(await early).toMatchObject({ ok: true, changed: [] });
    expect(first).toBe(second);
    expect(first).toMatchObject({ ok: true, reason: 'notice', changed: [{ name: 'ADMIN_TOKEN' }] });
    expect(source.calls.map((c) => c.op)).toEqual(['load', 'load', 'loadIndividually', 'loadPrevious']);
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['admin-v2', 'admin-v1']);
  });

  it('reports every attempt to onRefresh listeners with its reason, and survives a listener that throws', async () => {
    const { engine, source, clock, logger } = setup({ random: () => 1 });
    const seen: string[] = [];
    engine.onRefresh(() => {
      throw new Error('listener broke');
    });
    const off = engine.onRefresh((o) => seen.push(`${o.reason}:${o.ok ? 'ok' : o.code}`));
    await engine.initialize();
    await engine.refresh({ reason: 'notice' });
    source.failAll = new SourceError('ThrottlingException', true);
    await clock.advance(HOUR);
    await clock.advance(20_000);
    off();
    await engine.refresh();

    expect(seen).toEqual(['startup:ok', 'notice:ok', 'scheduled:ThrottlingException', 'retry:ThrottlingException']);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.listener_failed')).toHaveLength(5);
  });

  it('throws for a name outside the catalog and does nothing for an empty list', async () => {
    const { engine, source } = setup();
    await engine.initialize();

    expect(() => engine.refresh({ names: ['NOPE' as 'ADMIN_TOKEN'] })).toThrow(/Unknown secret "NOPE"/);
    await expect(engine.refresh({ names: [] })).resolves.toEqual({ ok: true, reason: 'forced', names: [], changed: [], failed: [] });
    expect(source.calls).toHaveLength(1);
  });

  it('logs each request with its reason and whether it joined, started or queued an attempt', async () => {
    const { engine, logger } = setup();
    await engine.initialize();
    const a = engine.refresh({ reason: 'notice' });
    const b = engine.refresh();
    const c = engine.refresh({ fresh: true, names: ['ADMIN_TOKEN'] });
    await Promise.all([a, b, c]);

    expect(logger.lines.filter((l) => l.obj.event === 'secrets.refresh_forced').map((l) => l.obj)).toEqual([
      { event: 'secrets.refresh_forced', reason: 'notice', fresh: false, answeredBy: 'started' },
      { event: 'secrets.refresh_forced', reason: 'forced', fresh: false, answeredBy: 'in-flight' },
      { event: 'secrets.refresh_forced', reason: 'forced', fresh: true, answeredBy: 'queued', names: ['ADMIN_TOKEN'] },
    ]);
  });
});

describe('SecretsEngine option checks', () => {
  it('names the option that is out of range', () => {
    const clock = new FakeClock();
    const make = (over: object) => () =>
      createSecretsEngine({ catalog: smallCatalog(), source: new MemorySource(() => clock.now()), clock, ...over });
    expect(make({ graceMs: -1 })).toThrow('graceMs must be at least 0 milliseconds');
    expect(make({ graceMs: 0 })).not.toThrow();
    expect(make({ attemptTimeoutMs: 0 })).toThrow('attemptTimeoutMs must be at least 1 milliseconds');
    expect(make({ startupTimeoutMs: Number.NaN })).toThrow(/startupTimeoutMs/);
    expect(make({ backoff: { baseMs: 0, capMs: 10 } })).toThrow(/backoff.baseMs/);
    expect(make({ backoff: { baseMs: 100, capMs: 10 } })).toThrow(/backoff.capMs/);
    expect(make({ ttlMs: Number.POSITIVE_INFINITY })).toThrow(/ttlMs/);
  });

  it('uses an hour of TTL and 15 minutes of grace by default', () => {
    const engine = createSecretsEngine({ catalog: smallCatalog(), source: new MemorySource(() => 0) });
    expect([engine.ttlMs, engine.graceMs]).toEqual([HOUR, 15 * 60_000]);
  });
});

describe('SecretsEngine start-up calls and audit lines', () => {
  it('loads once for concurrent and repeated initialize() calls, and refuses one after close()', async () => {
    const { engine, source } = setup();
    await Promise.all([engine.initialize(), engine.initialize()]);
    await engine.initialize();
    expect(source.calls).toHaveLength(1);

    engine.close();
    await expect(engine.initialize()).rejects.toMatchObject({ code: 'SECRETS_CLOSED', message: 'Secrets engine is closed' });
    await expect(setupClosed().initialize()).rejects.toMatchObject({ code: 'SECRETS_CLOSED' });
  });

  it('says where it loads from and how many secrets it loaded', async () => {
    const { engine, logger } = setup();
    await engine.initialize();

    expect(logger.lines[0]).toEqual({ level: 'info', msg: 'Loading secrets from memory', obj: { event: 'secrets.initializing', source: 'aws', region: 'test-1' } });
    expect(logger.lines.at(-1)).toEqual({ level: 'info', msg: 'Loaded 3 secrets from memory', obj: { event: 'secrets.loaded', source: 'aws', count: 3 } });
  });

  it('names the required secrets that are missing in one error line', async () => {
    const { engine, source, logger } = setup();
    source.remove('DATABASE_URL');
    await engine.initialize().catch(() => {});

    expect(logger.lines.find((l) => l.obj.event === 'secrets.missing_required')).toEqual({
      level: 'error',
      msg: 'Required secrets missing or invalid',
      obj: { event: 'secrets.missing_required', names: ['DATABASE_URL'] },
    });
  });
});

describe('SecretsEngine status over time', () => {
  it('reports the last attempt, the next refresh (none while one runs) and expiry at the TTL', async () => {
    const { engine, source, clock } = setup({ autoRefresh: false, ttlMs: 60_000 });
    const t0 = clock.now();
    await engine.initialize();
    expect(engine.status()).toMatchObject({
      sourceDescription: 'memory',
      ttlMs: 60_000,
      lastAttempt: new Date(t0).toISOString(),
      lastRefresh: new Date(t0).toISOString(),
      nextRefresh: new Date(t0 + 60_000).toISOString(),
      refreshing: false,
    });

    await clock.advance(59_999);
    expect(engine.status()).toMatchObject({ cacheExpired: false, cacheAgeMs: 59_999 });
    await clock.advance(1);
    expect(engine.status()).toMatchObject({ cacheExpired: true, nextRefresh: null });

    source.hold();
    engine.get('ADMIN_TOKEN');
    expect(engine.status()).toMatchObject({ refreshing: true, nextRefresh: null, lastAttempt: new Date(t0 + 60_000).toISOString() });
    source.release();
    await settle();
    expect(engine.status()).toMatchObject({ refreshing: false, cacheExpired: false, nextRefresh: new Date(t0 + 120_000).toISOString() });
  });

  it('reports a secret without a value as not loaded, without a change time, and a null region for a source without one', async () => {
    const clock = new FakeClock();
    const source = new MemorySource(() => clock.now());
    Object.defineProperty(source, 'region', { value: undefined });
    source.put('ADMIN_TOKEN', 'a');
    source.put('DATABASE_URL', 'postgresql://app@db.internal:5432/app');
    const engine = createSecretsEngine({ catalog: smallCatalog(), source, clock });
    await engine.initialize();

    expect(engine.status()).toMatchObject({ region: null, secretsLoaded: 3, totalSecrets: 4, lastErrorCode: null });
    expect(engine.status().secrets.OPTIONAL_KEY).toEqual({
      loaded: false,
      required: false,
      hasDefault: false,
      usingDefault: false,
      versionId: null,
      lastChanged: null,
      lastRead: null,
      lastErrorCode: null,
      previousAccepted: false,
      reads: 0,
    });
    expect(engine.status().secrets.ADMIN_TOKEN).toMatchObject({ lastChanged: new Date(clock.now()).toISOString(), previousAccepted: false });
  });

  it('reports before start-up that nothing is loaded and nothing is fine yet', () => {
    const { engine } = setup();
    expect(engine.status()).toMatchObject({
      initialized: false,
      requiredSecretsOk: false,
      secretsLoaded: 0,
      cacheAgeMs: null,
      cacheExpired: true,
      lastRefresh: null,
      lastAttempt: null,
      nextRefresh: null,
      lastErrorCode: null,
    });
    expect(engine.accepted('ADMIN_TOKEN')).toEqual([]);
  });
});

function setupClosed() {
  const { engine } = setup();
  engine.close();
  return engine;
}

describe('SecretsEngine when start-up fails for a reason other than missing secrets', () => {
  it('logs no missing-secrets line, and refuses a name outside the catalog as a configuration error', async () => {
    const { engine, source, logger } = setup();
    source.failAll = new SourceError('AccessDeniedException', false);

    await engine.initialize().catch(() => {});

    expect(logger.lines.filter((l) => l.obj.event === 'secrets.missing_required')).toEqual([]);
    expect(() => (engine.get as (n: string) => unknown)('NOPE')).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID_CONFIG' }));
  });
});
