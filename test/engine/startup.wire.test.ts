import { afterEach, describe, expect, it } from 'vitest';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAwsSource, type AwsCall } from '../../src/engine/aws-source.js';
import { createSecretsEngine, type SecretsEngine } from '../../src/engine/secrets-engine.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { FakeClock } from '../support/fake-clock.js';
import { createAll, localClient } from '../support/local-aws.js';

const DAY = 86_400_000;
const INSTANCES = 300;
const QUOTA_PER_SECOND = 100;
const catalog = whatsappSaasCatalog();
const values = Object.fromEntries(catalog.entries.map((e) => [e.name, e.name.startsWith('OPENAI_M') ? '100' : e.name === 'OPENAI_TEMPERATURE' ? '0.5' : e.name === 'DATABASE_URL' ? 'postgresql://u@127.0.0.1:5432/app' : e.name === 'REDIS_URL' ? 'redis://127.0.0.1:6379' : `value-${e.name}-0123456789abcdefghijklmnopqrstuvwxyz`]));

/** A seeded generator per instance: jitter that differs between instances and between runs of the test not at all. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

async function waitFor(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let lsm: LocalSecretsManager | undefined;
const clients: SecretsManagerClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await lsm?.close();
});

describe('start-up of a fleet against a throttling Secrets Manager', () => {
  it(`brings all ${INSTANCES} instances up within the start-up deadline when each operation allows ${QUOTA_PER_SECOND} calls a second`, async () => {
    // The endpoint and every engine share one fake clock: a "second" of the quota passes only when
    // the test moves the clock, after every call in flight has been answered, so the outcome does
    // not depend on how fast this machine serves 300 HTTP requests.
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    lsm = await startLocalSecretsManager({ port: 0, clock });
    await createAll(localClient(lsm), catalog, values);
    await clock.advance(DAY); // created a day ago: no rotation grace window, one call per attempt
    lsm.setFaults({ rateLimitPerSecond: QUOTA_PER_SECOND });
    lsm.resetCounts();

    const calls: (AwsCall & { atMs: number })[] = [];
    for (let i = 0; i < 10; i++) clients.push(localClient(lsm, { requestTimeoutMs: 120_000 }));
    const engines: SecretsEngine<typeof catalog.spec>[] = Array.from({ length: INSTANCES }, (_, i) =>
      createSecretsEngine({
        catalog,
        source: createAwsSource({ client: clients[i % clients.length]!, region: 'us-east-1', clock, onCall: (c) => calls.push({ ...c, atMs: clock.now() }) }),
        clock,
        random: seeded(i + 1),
      }),
    );
    const t0 = clock.now();
    const upAfterMs: (number | undefined)[] = new Array(INSTANCES).fill(undefined);
    const failures: unknown[] = [];
    const settled = new Array<boolean>(INSTANCES).fill(false);
    engines.forEach((engine, i) =>
      engine.initialize().then(
        () => (upAfterMs[i] = clock.now() - t0),
        (err: unknown) => failures.push(err),
      ).finally(() => (settled[i] = true)),
    );

    // Time moves from one due timer to the next, and only once every call in flight is answered:
    // each call reaches the endpoint at the fake time it was made.
    for (;;) {
      await waitFor(() => engines.every((e, i) => settled[i] || !e.status().refreshing));
      const next = clock.pending()[0];
      if (!settled.some((s) => !s) || next === undefined || next - t0 > 40_000) break;
      await clock.advance(next - clock.now());
    }
    for (const e of engines) e.close();

    const throttledBatches = calls.filter((c) => c.operation === 'BatchGetSecretValue' && c.outcome === 'ThrottlingException').length;
    const admittedPerSecond = new Map<string, number>();
    for (const c of calls.filter((x) => x.outcome === 'ok')) {
      const key = `${c.operation}@${Math.floor(c.atMs / 1000)}`;
      admittedPerSecond.set(key, (admittedPerSecond.get(key) ?? 0) + 1);
    }
    const okBatches = calls.filter((c) => c.operation === 'BatchGetSecretValue' && c.outcome === 'ok').length;
    const okSingles = calls.filter((c) => c.operation === 'GetSecretValue' && c.outcome === 'ok').length;

    expect(failures).toEqual([]);
    expect(upAfterMs.every((ms) => ms !== undefined && ms <= 30_000)).toBe(true);
    expect(throttledBatches).toBeGreaterThanOrEqual(INSTANCES - QUOTA_PER_SECOND);
    // The endpoint's limit is per operation: here GetSecretValue's too is 100 a second.
    expect(Math.max(...admittedPerSecond.values())).toBeLessThanOrEqual(QUOTA_PER_SECOND);
    // Those the batch turned away fell back to GetSecretValue per secret: every instance read the catalog once.
    expect(okBatches * catalog.entries.length + okSingles).toBeGreaterThanOrEqual(INSTANCES * catalog.entries.length);
  }, 120_000);
});
