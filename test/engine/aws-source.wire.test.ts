import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAwsSource } from '../../src/engine/aws-source.js';
import { defineCatalog } from '../../src/engine/catalog.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { IMMEDIATE_ROTATION_STAGE } from '../../src/engine/source.js';
import { text } from '../../src/engine/value-kinds.js';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { createAll, localClient, putValue, startBackdatedLocalAws } from '../support/local-aws.js';

const DAY = 86_400_000;
const catalog = whatsappSaasCatalog();

/** Unique planted values: none of them may show up in a log line or an error message. */
const CANARIES: Record<string, string> = {
  ADMIN_TOKEN: 'canary-admin-Q1w2E3r4t5Y6u7I8o9P0a1',
  META_VERIFY_TOKEN: 'canary-verify-T5y6U7i8',
  META_APP_SECRET: 'canary-appsecret-O9p0A1s2d3F4g5H6j7',
  DATABASE_URL: 'postgresql://canaryuser:canary-dbpass-D3f4@127.0.0.1:5432/app',
  REDIS_URL: 'redis://:canary-redispass-G5h6@127.0.0.1:6379',
  OPENAI_API_KEY: 'canary-openai-J7k8L9z0',
  WHATSAPP_PHONE_NUMBER_ID: 'canary-phone-X1c2V3b4',
  WHATSAPP_ACCESS_TOKEN: 'canary-wa-N5m6Q7w8',
  OPENAI_MODEL: 'canary-model-E9r0T1y2',
  OPENAI_MAX_TOKENS: '73915286',
  OPENAI_TEMPERATURE: '0.73915286',
};
// The numbers are long enough that a random version id (hex digits) cannot contain them by chance:
// '4242' once matched inside a fresh UUID and failed CI.
const canaryPieces = ['canary-', '73915286', 'Q1w2E3r4'];

let lsm: LocalSecretsManager;
let logger: ReturnType<typeof captureLogger>;
const errors: string[] = [];

beforeEach(async () => {
  const local = await startBackdatedLocalAws();
  lsm = local.lsm;
  local.setOffsetMs(-DAY);
  await createAll(localClient(lsm), catalog, CANARIES);
  local.setOffsetMs(0);
  lsm.resetCounts();
  logger = captureLogger();
});

afterEach(async () => {
  await lsm.close();
  const everything = `${logger.text()}\n${errors.join('\n')}`;
  for (const piece of canaryPieces) expect(everything).not.toContain(piece);
  errors.length = 0;
});

function engineFor(opts: { ttlMs?: number; attemptTimeoutMs?: number; autoRefresh?: boolean; clock?: FakeClock; requestTimeoutMs?: number } = {}) {
  const client = localClient(lsm, { requestTimeoutMs: opts.requestTimeoutMs ?? 2_000 });
  return createSecretsEngine({
    catalog,
    source: createAwsSource({ client, region: 'us-east-1', logger }),
    logger,
    ttlMs: opts.ttlMs ?? 3_600_000,
    graceMs: 60_000,
    attemptTimeoutMs: opts.attemptTimeoutMs ?? 5_000,
    ...(opts.autoRefresh !== undefined && { autoRefresh: opts.autoRefresh }),
    ...(opts.clock && { clock: opts.clock }),
  });
}

const id = (name: string) => catalog.entry(name)!.awsId;

describe('AWS source over the wire', () => {
  it('loads the whole catalog in one BatchGetSecretValue call', async () => {
    const engine = engineFor();
    await engine.initialize();

    expect(lsm.counts()).toEqual({ BatchGetSecretValue: 1 });
    expect(engine.get('OPENAI_MAX_TOKENS')).toBe(73915286);
    expect(engine.get('OPENAI_TEMPERATURE')).toBe(0.73915286);
    expect(engine.status()).toMatchObject({ secretsLoaded: 11, requiredSecretsOk: true, source: 'aws', region: 'us-east-1' });
    engine.close();
  });

  it('makes one batch call per 20 secrets for a larger catalog', async () => {
    const spec = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`S_${i}`, { kind: text(), required: true, description: `s${i}` }]));
    const big = defineCatalog(spec, { project: 'big', environment: 'test' });
    await createAll(localClient(lsm), big, Object.fromEntries(big.entries.map((e) => [e.name, `v-${e.name}`])));
    lsm.resetCounts();
    const engine = createSecretsEngine({ catalog: big, source: createAwsSource({ client: localClient(lsm), region: 'us-east-1' }) });

    await engine.initialize();

    expect(lsm.counts()).toEqual({ BatchGetSecretValue: 3 });
    expect(engine.status().secretsLoaded).toBe(45);
    engine.close();
  });

  it('falls back to GetSecretValue per secret when the batch call is denied, and remembers it', async () => {
    lsm.setFaults({ denyOperations: ['BatchGetSecretValue'] });
    const engine = engineFor();
    await engine.initialize();
    await engine.refresh();

    expect(lsm.counts()).toEqual({ BatchGetSecretValue: 1, GetSecretValue: 22 });
    expect(engine.get('ADMIN_TOKEN')).toBe(CANARIES.ADMIN_TOKEN);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.batch_denied')).toHaveLength(1);
    engine.close();
  });

  it('keeps every value through an outage during refresh and backs off', async () => {
    const clock = new FakeClock(Date.now());
    const engine = engineFor({ clock });
    await engine.initialize();
    lsm.setFaults({ outage: true });

    const first = await engine.refresh();
    const nextAfterFirst = Date.parse(engine.status().nextRefresh!) - clock.now();
    await clock.advance(nextAfterFirst);
    await vitestWaitFor(() => engine.status().consecutiveFailures === 2);
    const nextAfterSecond = Date.parse(engine.status().nextRefresh!) - clock.now();

    expect(first).toMatchObject({ ok: false, code: 'InternalServiceError', transient: true });
    expect(nextAfterFirst).toBeGreaterThanOrEqual(10_000);
    expect(nextAfterFirst).toBeLessThanOrEqual(20_000);
    expect(nextAfterSecond).toBeGreaterThanOrEqual(10_000);
    expect(nextAfterSecond).toBeLessThanOrEqual(20_000);
    expect(engine.get('ADMIN_TOKEN')).toBe(CANARIES.ADMIN_TOKEN);
    expect(engine.status()).toMatchObject({ secretsLoaded: 11, lastErrorCode: 'InternalServiceError' });

    lsm.clearFaults();
    await clock.advance(nextAfterSecond);
    await vitestWaitFor(() => engine.status().consecutiveFailures === 0);
    expect(engine.status().lastErrorCode).toBeNull();
    engine.close();
  });

  it('treats throttling as transient and keeps the values', async () => {
    const engine = engineFor();
    await engine.initialize();
    lsm.setFaults({ throttle: true });

    const outcome = await engine.refresh();

    expect(outcome).toMatchObject({ ok: false, code: 'ThrottlingException', transient: true });
    expect(engine.get('META_APP_SECRET')).toBe(CANARIES.META_APP_SECRET);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.refresh_failed')?.level).toBe('warn');
    engine.close();
  });

  it('survives a denied secret, reports it at error level, and updates the rest', async () => {
    const engine = engineFor();
    await engine.initialize();
    lsm.setFaults({ denySecrets: [id('OPENAI_API_KEY')] });
    await putValue(localClient(lsm), id('OPENAI_MODEL'), 'canary-model-2-Z9x8');

    const outcome = await engine.refresh();

    expect(outcome).toMatchObject({ ok: true, changed: [{ name: 'OPENAI_MODEL' }] });
    expect(engine.get('OPENAI_API_KEY')).toBe(CANARIES.OPENAI_API_KEY);
    expect(engine.get('OPENAI_MODEL')).toBe('canary-model-2-Z9x8');
    expect(engine.status().secrets.OPENAI_API_KEY).toMatchObject({ loaded: true, lastErrorCode: 'AccessDeniedException' });
    expect(logger.lines.find((l) => l.obj.event === 'secrets.secret_failed')).toMatchObject({
      level: 'error',
      obj: { name: 'OPENAI_API_KEY', code: 'AccessDeniedException' },
    });
    engine.close();
  });

  it('updates 10 secrets and keeps the last good value of the one that failed inside a batch', async () => {
    const engine = engineFor();
    await engine.initialize();
    for (const { name, awsId } of catalog.entries) {
      if (name === 'OPENAI_MAX_TOKENS') await putValue(localClient(lsm), awsId, '777');
      else if (name === 'OPENAI_TEMPERATURE') await putValue(localClient(lsm), awsId, '0.9');
      else if (name === 'DATABASE_URL') await putValue(localClient(lsm), awsId, 'postgresql://u@127.0.0.1:5432/other');
      else if (name === 'REDIS_URL') await putValue(localClient(lsm), awsId, 'redis://127.0.0.1:6380');
      else await putValue(localClient(lsm), awsId, `new-${name}-a1B2c3D4e5F6g7H8i9J0`);
    }
    lsm.setFaults({ failInBatch: [id('REDIS_URL')] });

    const outcome = await engine.refresh();

    expect(outcome.ok && outcome.changed.map((c) => c.name).sort()).toEqual(
      catalog.entries.map((e) => e.name).filter((n) => n !== 'REDIS_URL').sort(),
    );
    expect(engine.get('REDIS_URL')).toBe(CANARIES.REDIS_URL);
    expect(engine.get('OPENAI_MAX_TOKENS')).toBe(777);
    expect(engine.status().secrets.REDIS_URL).toMatchObject({ loaded: true, lastErrorCode: 'InternalServiceError' });
    engine.close();
  });

  it('ends a refresh against an endpoint that accepts connections and never answers, leaving nothing pending', async () => {
    const engine = engineFor({ attemptTimeoutMs: 1_500, requestTimeoutMs: 60_000 });
    await engine.initialize();
    lsm.setFaults({ hang: true });

    const started = Date.now();
    const outcome = await engine.refresh();
    const tookMs = Date.now() - started;

    expect(outcome).toMatchObject({ ok: false, transient: true });
    expect(tookMs).toBeLessThan(10_000); // a bound on a hang, not a timing target
    expect(engine.get('ADMIN_TOKEN')).toBe(CANARIES.ADMIN_TOKEN);
    expect(engine.status().refreshing).toBe(false);
    engine.close();
  });

  it('picks up a graceful rotation and accepts the previous value within grace, and refuses it after an immediate one', async () => {
    const engine = engineFor();
    await engine.initialize();

    await putValue(localClient(lsm), id('ADMIN_TOKEN'), 'canary-admin-rotated-1-a2B3c4D5e6F7g8H9');
    const graceful = await engine.refresh();
    expect(graceful).toMatchObject({ ok: true, changed: [{ name: 'ADMIN_TOKEN' }] });
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['canary-admin-rotated-1-a2B3c4D5e6F7g8H9', CANARIES.ADMIN_TOKEN]);

    await putValue(localClient(lsm), id('ADMIN_TOKEN'), 'canary-admin-rotated-2-a2B3c4D5e6F7g8H9', ['AWSCURRENT', IMMEDIATE_ROTATION_STAGE]);
    await engine.refresh();
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['canary-admin-rotated-2-a2B3c4D5e6F7g8H9']);
    engine.close();
  });

  it('keeps the rolled-away-from token for the grace window after a graceful rollback, and refuses it after an immediate one', async () => {
    const engine = engineFor();
    await engine.initialize();
    const original = engine.status().secrets.ADMIN_TOKEN!.versionId!;
    const client = localClient(lsm);
    const rotated = await putValue(client, id('ADMIN_TOKEN'), 'canary-admin-rotated-1-0123456789abcdefghij', ['AWSCURRENT', IMMEDIATE_ROTATION_STAGE]);
    await engine.refresh();
    const stage = (VersionStage: string, move: { MoveToVersionId?: string; RemoveFromVersionId?: string }) =>
      client.send(new UpdateSecretVersionStageCommand({ SecretId: id('ADMIN_TOKEN'), VersionStage, ...move }));

    // Graceful rollback: AWSCURRENT back to the original version, no ROTATION_IMMEDIATE anywhere.
    await stage('AWSCURRENT', { MoveToVersionId: original, RemoveFromVersionId: rotated });
    await stage(IMMEDIATE_ROTATION_STAGE, { RemoveFromVersionId: rotated });
    await engine.refresh();
    expect(engine.accepted('ADMIN_TOKEN')).toEqual([CANARIES.ADMIN_TOKEN, 'canary-admin-rotated-1-0123456789abcdefghij']);

    // Immediate rollback: the label moves onto the version restored to AWSCURRENT.
    const again = await putValue(client, id('ADMIN_TOKEN'), 'canary-admin-rotated-2-0123456789abcdefghij');
    await engine.refresh();
    const restored = engine.status().secrets.ADMIN_TOKEN!.versionId;
    expect(restored).toBe(again);
    await stage('AWSCURRENT', { MoveToVersionId: original, RemoveFromVersionId: again });
    await stage(IMMEDIATE_ROTATION_STAGE, { MoveToVersionId: original });
    await engine.refresh();

    expect(engine.accepted('ADMIN_TOKEN')).toEqual([CANARIES.ADMIN_TOKEN]);
    expect(engine.status().secrets.ADMIN_TOKEN).toMatchObject({ versionId: original, previousAccepted: false });
    engine.close();
  });

  it('loads AWSPREVIOUS at start-up of an instance that starts within a rotation grace window', async () => {
    await putValue(localClient(lsm), id('META_APP_SECRET'), 'canary-appsecret-new-1-a2B3c4D5e6F7g8');
    lsm.resetCounts();
    const engine = engineFor();

    await engine.initialize();

    expect(lsm.counts()).toEqual({ BatchGetSecretValue: 1, GetSecretValue: 1 });
    expect(engine.accepted('META_APP_SECRET')).toEqual(['canary-appsecret-new-1-a2B3c4D5e6F7g8', CANARIES.META_APP_SECRET]);
    engine.close();
  });

  it('answers 10,000 concurrent reads at expiry from memory with exactly one refresh call', async () => {
    const clock = new FakeClock(Date.now());
    const engine = engineFor({ ttlMs: 10_000, autoRefresh: false, clock });
    await engine.initialize();
    await putValue(localClient(lsm), id('ADMIN_TOKEN'), 'canary-admin-after-expiry-a2B3c4D5e6F7');
    lsm.setFaults({ latencyMs: 100 });
    lsm.resetCounts();
    await clock.advance(10_000);

    const reads = await Promise.all(Array.from({ length: 10_000 }, async () => engine.get('ADMIN_TOKEN')));
    await vitestWaitFor(() => engine.get('ADMIN_TOKEN') === 'canary-admin-after-expiry-a2B3c4D5e6F7');

    expect(new Set(reads)).toEqual(new Set([CANARIES.ADMIN_TOKEN]));
    expect(lsm.counts()).toEqual({ BatchGetSecretValue: 1, GetSecretValue: 1 });
    engine.close();
  });

  it('reports a start-up with a missing required secret by name and code only', async () => {
    lsm.setFaults({ denySecrets: [id('DATABASE_URL')] });
    const engine = engineFor();
    const err = await engine.initialize().catch((e: unknown) => e as Error);
    errors.push(String(err), (err as Error).stack ?? '');
    expect((err as Error).message).toBe(
      'Secrets initialization failed: missing or invalid required secrets: DATABASE_URL (AccessDeniedException)',
    );
  });
});

async function vitestWaitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
