import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsSource, type AwsCall } from '../../src/engine/aws-source.js';
import { defineCatalog } from '../../src/engine/catalog.js';
import { IMMEDIATE_ROTATION_STAGE } from '../../src/engine/source.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { text } from '../../src/engine/value-kinds.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { captureLogger } from '../support/capture-logger.js';
import { createAll, localClient, putValue, replicateAll } from '../support/local-aws.js';

const PRIMARY = 'us-east-1';
const REPLICA = 'us-west-2';
const catalog = defineCatalog(
  {
    ADMIN_TOKEN: { kind: text(), required: true, description: 'admin token' },
    OPENAI_MODEL: { kind: text(), required: true, description: 'model' },
  },
  { project: 'regions', environment: 'test' },
);

const FIRST = 'first-admin-token-Zq8Xw2Lm5Pv7Rt3Nc9Kd';
const SECOND = 'second-admin-token-Hy4Bf6Jg1Us8Oe2Wa7Qi';
const canaryPieces = ['first-admin', 'second-admin', 'model-canary'];

let lsm: LocalSecretsManager;
let logger: ReturnType<typeof captureLogger>;
let calls: AwsCall[];

beforeEach(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
  const primary = localClient(lsm);
  await createAll(primary, catalog, { ADMIN_TOKEN: FIRST, OPENAI_MODEL: 'model-canary-Vt5Ns2' });
  await replicateAll(primary, catalog, [REPLICA]);
  lsm.resetCounts();
  logger = captureLogger();
  calls = [];
});

afterEach(async () => {
  await lsm.close();
  for (const piece of canaryPieces) expect(logger.text()).not.toContain(piece);
});

function engineFor(opts: { regionTimeoutMs?: number; attemptTimeoutMs?: number; startupTimeoutMs?: number } = {}) {
  return createSecretsEngine({
    catalog,
    source: createAwsSource({
      regions: [
        { region: PRIMARY, client: localClient(lsm, { region: PRIMARY }) },
        { region: REPLICA, client: localClient(lsm, { region: REPLICA }) },
      ],
      logger,
      onCall: (call) => calls.push(call),
      ...(opts.regionTimeoutMs !== undefined && { regionTimeoutMs: opts.regionTimeoutMs }),
    }),
    logger,
    autoRefresh: false,
    attemptTimeoutMs: opts.attemptTimeoutMs ?? 8_000,
    startupTimeoutMs: opts.startupTimeoutMs ?? 30_000,
  });
}

const events = (name: string) => logger.lines.filter((l) => l.obj.event === name);

describe('createAwsSource with a primary and a replica region', () => {
  it('reads the primary alone while it answers', async () => {
    const engine = engineFor();

    await engine.initialize();

    expect(engine.status()).toMatchObject({ region: PRIMARY, primaryRegion: PRIMARY, regions: [PRIMARY, REPLICA], degraded: null });
    expect(engine.status().regionSince).not.toBeNull();
    expect(lsm.counts(REPLICA)).toEqual({});
    expect(calls).toEqual([{ operation: 'BatchGetSecretValue', outcome: 'ok', region: PRIMARY }]);
  });

  it('starts from the replica when the primary is in outage, and says so', async () => {
    lsm.setFaults({ outage: true }, PRIMARY);
    const engine = engineFor();

    await engine.initialize();

    expect(engine.get('ADMIN_TOKEN')).toBe(FIRST);
    expect(engine.status()).toMatchObject({ region: REPLICA, degraded: { code: 'SERVED_BY_REPLICA', region: REPLICA } });
    expect(events('secrets.region_failover')).toHaveLength(1);
    expect(events('secrets.region_failover')[0]!.obj).toMatchObject({ region: REPLICA, primaryRegion: PRIMARY });
    expect(calls.map((c) => [c.region, c.outcome])).toEqual([
      [PRIMARY, 'InternalServiceError'],
      [REPLICA, 'ok'],
    ]);
  });

  it('starts from the replica when the primary hangs, within one attempt', async () => {
    lsm.setFaults({ hang: true }, PRIMARY);
    const engine = engineFor({ regionTimeoutMs: 300 });

    await engine.initialize();

    expect(engine.get('ADMIN_TOKEN')).toBe(FIRST);
    expect(engine.status().region).toBe(REPLICA);
    expect(events('secrets.startup_retry')).toHaveLength(0);
  });

  it('moves to the replica when the primary throttles', async () => {
    lsm.setFaults({ throttle: true }, PRIMARY);
    const engine = engineFor();

    await engine.initialize();

    expect(engine.status().region).toBe(REPLICA);
  });

  it('does not move to the replica when the primary denies access: the replica shares the policy', async () => {
    lsm.setFaults({ denySecrets: catalog.entries.map((e) => e.awsId) }, PRIMARY);
    const engine = engineFor();

    await expect(engine.initialize()).rejects.toMatchObject({ sourceCode: 'AccessDeniedException', transient: false });
    expect(lsm.counts(REPLICA)).toEqual({});
  });

  it('does not move to the replica for a secret missing in the primary', async () => {
    const source = createAwsSource({
      regions: [
        { region: PRIMARY, client: localClient(lsm, { region: PRIMARY }) },
        { region: REPLICA, client: localClient(lsm, { region: REPLICA }) },
      ],
    });
    const other = defineCatalog({ NOT_THERE: { kind: text(), required: true, description: 'absent' } }, { project: 'regions', environment: 'test' });

    const result = await source.load(other.entries, new AbortController().signal);

    expect(result).toMatchObject({ region: PRIMARY, records: [], failures: [{ name: 'NOT_THERE', code: 'ResourceNotFoundException', transient: false }] });
    expect(lsm.counts(REPLICA)).toEqual({});
  });

  it('tries the primary first on every attempt and returns to it on its first success', async () => {
    lsm.setFaults({ outage: true }, PRIMARY);
    const engine = engineFor();
    await engine.initialize();

    const during = await engine.refresh();
    lsm.clearFaults(PRIMARY);
    const after = await engine.refresh();

    expect(during).toMatchObject({ ok: true, region: REPLICA, servedByReplica: true });
    expect(after).toMatchObject({ ok: true, region: PRIMARY, servedByReplica: false });
    expect(engine.status()).toMatchObject({ region: PRIMARY, degraded: null });
    expect(events('secrets.region_failover')).toHaveLength(1);
    expect(events('secrets.region_restored')).toHaveLength(1);
    expect(calls.filter((c) => c.region === PRIMARY)).toHaveLength(3);
  });

  it('plans the next attempt at the backoff pace while a replica serves, to find the primary again', async () => {
    lsm.setFaults({ outage: true }, PRIMARY);
    const engine = createSecretsEngine({
      catalog,
      source: createAwsSource({
        regions: [
          { region: PRIMARY, client: localClient(lsm, { region: PRIMARY }) },
          { region: REPLICA, client: localClient(lsm, { region: REPLICA }) },
        ],
      }),
      ttlMs: 3_600_000,
    });
    await engine.initialize();
    await engine.refresh();

    const status = engine.status();
    engine.close();

    expect(status.nextRefresh).not.toBeNull();
    expect(Date.parse(status.nextRefresh!) - Date.parse(status.lastAttempt!)).toBeLessThanOrEqual(20_000);
  });

  it('brings the next full attempt forward when a refresh of a few names is served by the replica', async () => {
    const engine = createSecretsEngine({
      catalog,
      source: createAwsSource({
        regions: [
          { region: PRIMARY, client: localClient(lsm, { region: PRIMARY }) },
          { region: REPLICA, client: localClient(lsm, { region: REPLICA }) },
        ],
      }),
      ttlMs: 3_600_000,
    });
    await engine.initialize();
    const fromPrimary = engine.status();
    lsm.setFaults({ outage: true }, PRIMARY);

    const outcome = await engine.refresh({ names: ['ADMIN_TOKEN'] });
    const status = engine.status();
    engine.close();

    expect(Date.parse(fromPrimary.nextRefresh!) - Date.parse(fromPrimary.lastAttempt!)).toBeGreaterThan(20_000);
    expect(outcome).toMatchObject({ ok: true, region: REPLICA, servedByReplica: true });
    expect(status.region).toBe(REPLICA);
    expect(Date.parse(status.nextRefresh!) - Date.parse(status.lastAttempt!)).toBeLessThanOrEqual(20_000);
  });

  it('takes from a lagging replica only the version it holds as AWSCURRENT, then the new one once replicated', async () => {
    const engine = engineFor();
    await engine.initialize();
    lsm.setFaults({ replicationLagMs: 60_000 }, REPLICA);
    const rotated = await putValue(localClient(lsm), catalog.entry('ADMIN_TOKEN')!.awsId, SECOND);
    lsm.setFaults({ outage: true }, PRIMARY);

    const lagging = await engine.refresh();
    const beforeReplication = engine.get('ADMIN_TOKEN');
    lsm.flushReplication();
    await lsm.whenReplicated();
    const replicated = await engine.refresh();

    expect(lagging).toMatchObject({ ok: true, region: REPLICA, changed: [] });
    expect(beforeReplication).toBe(FIRST);
    expect(replicated).toMatchObject({ ok: true, region: REPLICA, changed: [{ name: 'ADMIN_TOKEN', versionId: rotated }] });
    expect(engine.get('ADMIN_TOKEN')).toBe(SECOND);
  });

  it('refuses the old token after an immediate rotation only once its label moves have reached the replica it reads', async () => {
    // The same secrets, with the admin token accepting its previous value in a graceful rotation.
    const graceful = defineCatalog(
      {
        ADMIN_TOKEN: { kind: text(), required: true, description: 'admin token', acceptsPrevious: true },
        OPENAI_MODEL: { kind: text(), required: true, description: 'model' },
      },
      { project: 'regions', environment: 'test' },
    );
    const engine = createSecretsEngine({
      catalog: graceful,
      source: createAwsSource({
        regions: [
          { region: PRIMARY, client: localClient(lsm, { region: PRIMARY }) },
          { region: REPLICA, client: localClient(lsm, { region: REPLICA }) },
        ],
      }),
      autoRefresh: false,
    });
    await engine.initialize();
    lsm.setFaults({ replicationLagMs: 60_000 }, REPLICA);
    await putValue(localClient(lsm), catalog.entry('ADMIN_TOKEN')!.awsId, SECOND, ['AWSCURRENT', IMMEDIATE_ROTATION_STAGE]);
    lsm.setFaults({ outage: true }, PRIMARY);

    await engine.refresh();
    const beforeReplication = engine.accepted('ADMIN_TOKEN');
    lsm.flushReplication();
    await lsm.whenReplicated();
    await engine.refresh();

    expect(beforeReplication).toEqual([FIRST]);
    expect(engine.accepted('ADMIN_TOKEN')).toEqual([SECOND]);
    expect(engine.status().region).toBe(REPLICA);
  });

  it('reads the previous version from the region that served the current one, not the failed primary again', async () => {
    const source = createAwsSource({
      regions: [
        { region: PRIMARY, client: localClient(lsm, { region: PRIMARY }) },
        { region: REPLICA, client: localClient(lsm, { region: REPLICA }) },
      ],
      onCall: (call) => calls.push(call),
    });
    await putValue(localClient(lsm), catalog.entry('ADMIN_TOKEN')!.awsId, SECOND);
    lsm.setFaults({ outage: true }, PRIMARY);
    const signal = new AbortController().signal;

    const current = await source.load(catalog.entries, signal);
    const previous = await source.loadPrevious!([catalog.entry('ADMIN_TOKEN')!], signal, current.region);

    expect(current.region).toBe(REPLICA);
    expect(previous).toMatchObject({ region: REPLICA, records: [{ name: 'ADMIN_TOKEN', raw: FIRST }] });
    expect(calls.filter((c) => c.region === PRIMARY)).toEqual([{ operation: 'BatchGetSecretValue', outcome: 'InternalServiceError', region: PRIMARY }]);
  });

  it('fails the attempt with the primary error when every region fails', async () => {
    lsm.setFaults({ outage: true });
    const engine = engineFor({ startupTimeoutMs: 1_000 });

    await expect(engine.initialize()).rejects.toMatchObject({ sourceCode: 'InternalServiceError' });
    expect(lsm.counts(REPLICA)).not.toEqual({});
  });
});
