import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UNLOCK_CHANNEL } from '../../src/admin-lockout/unlock.js';
import { run } from '../../src/cli/run.js';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { buildApp } from '../../src/service/app.js';
import { createFailureThrottle, DEFAULT_THROTTLE_KEY_PREFIX, type FailureThrottle } from '../../src/service/failure-throttle.js';
import { createLogger } from '../../src/service/logger.js';
import { REDIS_CLIENT_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../../src/service/redis-connection.js';
import { listenForUnlocks, type UnlockListener } from '../../src/service/unlock-listener.js';
import { cliDeps } from '../cli/support.js';
import { captureLogs, type LogCapture } from './support/log-capture.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from './support/redis-server.js';
import { startHarness, testSecrets, type Harness } from './support/service-harness.js';

/**
 * The admin throttle over the wire while its Redis is paused (SIGSTOP), killed and restarted,
 * with right-token and wrong-token load running against listening instances. Each load is
 * bounded in requests and stops itself; faults last until an event (N answers seen), never a sleep.
 * `PRINT_THROTTLE_FIGURES=1` prints what each scenario measured (RELIABILITY.md quotes it).
 */

// Restarts wait for ioredis's reconnect backoff (up to 2 s per connection) on a loaded machine.
vi.setConfig({ testTimeout: 90_000 });

let db: ThrowawayDatabase;
let server: ThrowawayRedis;
let h: Harness;
const closers: (() => Promise<void>)[] = [];
const figures: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await throwawayDatabase('svc_throttle_faults');
  server = await startThrowawayRedis();
  h = await startHarness({ env: testSecrets(db.url, server.url) });
}, 60_000);

afterEach(async () => {
  server.resume();
  if (server.pid === undefined) await server.start();
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  await h?.close();
  await server?.stop();
  await db?.drop();
  if (process.env.PRINT_THROTTLE_FIGURES === '1') for (const f of figures) process.stdout.write(`THROTTLE-FIGURES ${JSON.stringify(f)}\n`);
});

interface Instance {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly redis: Redis;
  readonly throttle: FailureThrottle;
  readonly logs: LogCapture;
  /** Throttle decisions asked so far (one per request that reached admin auth). */
  decisions(): number;
}

/** One listening service instance with its own Redis connection (and unlock subscriber), as the entry wires it. */
async function instance(keyPrefix: string, opts: { guessTimeoutMs?: number; unlocks?: boolean } = {}): Promise<Instance> {
  const logs = captureLogs();
  const logger = createLogger({ level: 'info', destination: logs.stream });
  const redis = new Redis(server.url, REDIS_CLIENT_OPTIONS);
  redis.on('error', () => {});
  await whenRedisReady(redis);
  const inner = createFailureThrottle({ redis, keyPrefix, logger, ...(opts.guessTimeoutMs !== undefined && { guessTimeoutMs: opts.guessTimeoutMs }) });
  let decisions = 0;
  const throttle: FailureThrottle = {
    ...inner,
    decide: (client, credential) => {
      decisions++;
      return inner.decide(client, credential);
    },
  };
  const app = await buildApp({ engine: h.engine, database: h.database, redis, throttle, logger, options: { logRequests: false, trustProxy: ['loopback'] } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  let unlocks: UnlockListener | undefined;
  let subscriber: Redis | undefined;
  if (opts.unlocks === true) {
    subscriber = new Redis(server.url, REDIS_SUBSCRIBER_OPTIONS);
    subscriber.on('error', () => {});
    unlocks = listenForUnlocks({ subscriber, throttle, keyPrefix, logger });
    await unlocks.start();
  }
  closers.push(async () => {
    await app.close();
    await unlocks?.close();
    subscriber?.disconnect();
    redis.disconnect();
  });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, redis, throttle, logs, decisions: () => decisions };
}

const prefix = () => `test-throttle-faults:${randomBytes(6).toString('hex')}:`;
const RIGHT = () => h.env.ADMIN_TOKEN!;

/** Polls `condition` until it holds (an event this test cannot subscribe to), failing after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function untilAsync(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One admin call; `from` is the client address the loopback proxy forwards (instances trust loopback). */
async function call(url: string, token: string | undefined, from?: string): Promise<{ status: number; retryAfter: string | null }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['x-admin-token'] = token;
  if (from !== undefined) headers['x-forwarded-for'] = from;
  const res = await fetch(`${url}/admin/secrets/health`, { headers, signal: AbortSignal.timeout(20_000) });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

interface Load {
  /** Answers so far, by status. */
  readonly counts: Map<number, number>;
  answered(): number;
  /** Resolves once `n` more answers have come in than when it was called. */
  more(n: number): Promise<void>;
  /** Stops the workers and resolves the final counts. */
  stop(): Promise<Map<number, number>>;
}

/**
 * `concurrency` clients sending `token` back to back until stopped or `maxRequests` answers: a
 * bounded load. Transport errors count as status 0.
 */
function load(url: string, token: () => string, concurrency: number, maxRequests = 20_000, from?: string): Load {
  const counts = new Map<number, number>();
  let answered = 0;
  let stopped = false;
  const waiters: { at: number; resolve: () => void }[] = [];
  const record = (status: number) => {
    counts.set(status, (counts.get(status) ?? 0) + 1);
    answered++;
    for (const w of waiters.splice(0)) if (answered >= w.at || stopped) w.resolve();
    else waiters.push(w);
  };
  const worker = async () => {
    while (!stopped && answered < maxRequests) record(await call(url, token(), from).then((r) => r.status, () => 0));
    stopped = true;
    for (const w of waiters.splice(0)) w.resolve();
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    counts,
    answered: () => answered,
    more: (n) => new Promise((resolve) => (stopped ? resolve() : waiters.push({ at: answered + n, resolve }))),
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return counts;
    },
  };
}

const count = (m: Map<number, number>, status: number) => m.get(status) ?? 0;
const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('point 1: a right token is never refused because of what Redis did', () => {
  it('answers every right-token request while Redis is paused, and leaves no count behind', async () => {
    const keyPrefix = prefix();
    const a = await instance(keyPrefix);
    const right = load(a.url, RIGHT, 5);

    await right.more(50);
    server.pause();
    await right.more(20); // answered while Redis is frozen
    server.resume();
    await right.more(50);
    const counts = await right.stop();
    const after = await call(a.url, RIGHT());
    const leftInRedis = await a.redis.exists(`${keyPrefix}127.0.0.1`);

    figures.push({ scenario: 'right token, 5 clients, Redis SIGSTOP for 20 answers', answered: total(counts), refused429: count(counts, 429), ok: count(counts, 200), keyAfter: leftInRedis, after: after.status });
    expect(count(counts, 429)).toBe(0);
    expect(count(counts, 200)).toBe(total(counts));
    expect(after).toEqual({ status: 200, retryAfter: null });
    expect(leftInRedis).toBe(0);
  });

  it('answers every right-token request while Redis is killed and restarted, and leaves no count behind', async () => {
    const keyPrefix = prefix();
    const a = await instance(keyPrefix);
    const right = load(a.url, RIGHT, 5);

    await right.more(50);
    await server.stop();
    await right.more(40);
    await server.start();
    await whenRedisReady(a.redis);
    await right.more(50);
    const counts = await right.stop();

    figures.push({ scenario: 'right token, 5 clients, Redis SIGKILL and restart', answered: total(counts), refused429: count(counts, 429), ok: count(counts, 200) });
    expect(count(counts, 429)).toBe(0);
    expect(count(counts, 200)).toBe(total(counts));
    expect(await a.redis.exists(`${keyPrefix}127.0.0.1`)).toBe(0);
  });

  it('gives back in Redis a wrong guess refused from memory whose reservation reached Redis late', async () => {
    const keyPrefix = prefix();
    // Nine typos counted in Redis; Redis freezes; the instance then learns nothing in time.
    const a = await instance(keyPrefix, { guessTimeoutMs: 300 });
    for (let i = 0; i < 9; i++) expect((await call(a.url, `wrong-guess-${i}`)).status).toBe(401);
    server.pause();
    // Memory knows 9 (mirrored from Redis): the 10th guess is granted there, the 11th refused.
    const tenth = await call(a.url, 'wrong-guess-9');
    const eleventh = await call(a.url, 'wrong-guess-10');
    server.resume();
    await whenRedisReady(a.redis);
    // The next answered call flushes what is owed to Redis; then Redis holds exactly the 10 revealed.
    expect((await call(a.url, RIGHT())).status).toBe(429);
    const n = await a.redis.hget(`${keyPrefix}127.0.0.1`, 'n');

    expect([tenth.status, eleventh.status]).toEqual([401, 429]);
    expect(n).toBe('10');
  });
});

describe('point 2: the owner is never refused because of its own concurrent good requests', () => {
  it('answers 20 concurrent right-token clients from one address after nine typos', async () => {
    const keyPrefix = prefix();
    const a = await instance(keyPrefix);
    for (let i = 0; i < 9; i++) expect((await call(a.url, `wrong-guess-${i}`)).status).toBe(401);

    const right = load(a.url, RIGHT, 20, 2_000);
    await right.more(2_000);
    const counts = await right.stop();

    figures.push({ scenario: 'right token, 20 clients, after 9 wrong tokens', answered: total(counts), refused429: count(counts, 429), ok: count(counts, 200) });
    expect(count(counts, 429)).toBe(0);
    expect(count(counts, 200)).toBe(total(counts));
  });

  it('keeps answering the right token while two wrong guesses land among it', async () => {
    const keyPrefix = prefix();
    const a = await instance(keyPrefix);
    const right = load(a.url, RIGHT, 20, 2_000);
    await right.more(100);
    const wrong = await Promise.all([call(a.url, 'wrong-guess-a'), call(a.url, 'wrong-guess-b')]);
    await right.more(500);
    const counts = await right.stop();

    expect(wrong.map((r) => r.status)).toEqual([401, 401]);
    expect(count(counts, 429)).toBe(0);
  });
});

describe('point 3: no second budget on top of Redis', () => {
  it('lets at most 10 of 200 concurrent wrong tokens be compared across two instances while Redis is frozen and comes back', async () => {
    const keyPrefix = prefix();
    const a = await instance(keyPrefix, { guessTimeoutMs: 10_000 });
    const b = await instance(keyPrefix, { guessTimeoutMs: 10_000 });
    server.pause();
    const burst = Promise.all(Array.from({ length: 200 }, (_, i) => call(i % 2 === 0 ? a.url : b.url, `wrong-guess-${i}`)));
    // Resume once every request is waiting on Redis: its replies are now all late.
    await until(() => a.decisions() + b.decisions() >= 200);
    server.resume();
    const codes = (await burst).map((r) => r.status);

    const answered401 = codes.filter((c) => c === 401).length;
    figures.push({ scenario: '200 concurrent wrong tokens at 2 instances, Redis frozen then back', compared401: answered401, refused429: codes.filter((c) => c === 429).length });
    expect(answered401).toBeLessThanOrEqual(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(200 - answered401);
    expect(Number(await a.redis.hget(`${keyPrefix}127.0.0.1`, 'n'))).toBe(answered401);
  });

  it('lets at most 10 per instance be compared while Redis is down, and the right token in once it is back', async () => {
    const keyPrefix = prefix();
    const a = await instance(keyPrefix);
    const b = await instance(keyPrefix);
    await server.stop();
    const codes = (await Promise.all(Array.from({ length: 200 }, (_, i) => call(i % 2 === 0 ? a.url : b.url, `wrong-guess-${i}`)))).map((r) => r.status);
    const comparedAt = (parity: number) => codes.filter((c, i) => i % 2 === parity && c === 401).length;
    await server.start();
    await Promise.all([whenRedisReady(a.redis), whenRedisReady(b.redis)]);
    // Redis is back: each instance still refuses on what it answered from memory, and settles it in Redis.
    const rightAtB = await call(b.url, RIGHT());
    const rightAtA = await call(a.url, RIGHT());
    await untilAsync(async () => Number(await a.redis.hget(`${keyPrefix}127.0.0.1`, 'n')) === comparedAt(0) + comparedAt(1));
    // So the fleet knows, not only the instances that counted: A without its memory still refuses.
    const forgotten = a.throttle.forget('127.0.0.1');
    const rightAtAFromRedis = await call(a.url, RIGHT());

    figures.push({ scenario: '200 concurrent wrong tokens at 2 instances, Redis down', compared401AtA: comparedAt(0), compared401AtB: comparedAt(1) });
    expect(comparedAt(0)).toBeLessThanOrEqual(10);
    expect(comparedAt(1)).toBeLessThanOrEqual(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(200 - comparedAt(0) - comparedAt(1));
    expect([rightAtB.status, rightAtA.status]).toEqual([429, 429]);
    expect(forgotten).toBe(true);
    expect(rightAtAFromRedis.status).toBe(429);
  });

  it('mixes right and wrong load through a Redis pause: no right token refused, at most 10 wrong compared', async () => {
    const keyPrefix = prefix();
    // The product's guess timeout (2 s): each right token compared during the pause waits that long, then memory answers it.
    const a = await instance(keyPrefix);
    const b = await instance(keyPrefix);
    // The owner at 198.51.100.1 through both instances; a guesser at 203.0.113.9 through both.
    const rightA = load(a.url, RIGHT, 5, 5_000, '198.51.100.1');
    const wrongB = load(b.url, () => `wrong-guess-${randomBytes(4).toString('hex')}`, 5, 5_000, '203.0.113.9');
    await rightA.more(50);
    server.pause();
    await rightA.more(20);
    server.resume();
    await wrongB.more(30);
    await rightA.more(30);
    const [right, wrong] = await Promise.all([rightA.stop(), wrongB.stop()]);

    figures.push({ scenario: 'right load at A, wrong load at B, Redis SIGSTOP', right200: count(right, 200), right429: count(right, 429), wrong401: count(wrong, 401), wrong429: count(wrong, 429) });
    expect(count(wrong, 401)).toBeLessThanOrEqual(10);
    expect(count(wrong, 401) + count(wrong, 429)).toBe(total(wrong));
    expect(count(right, 429)).toBe(0);
    expect(count(right, 200)).toBe(total(right));
  });
});

describe('point 4: one command clears a lockout everywhere, memory included', () => {
  it('secrets unlock ADDRESS --redis-url clears the Redis count and every instance memory, and says who did it', async () => {
    const a = await instance(DEFAULT_THROTTLE_KEY_PREFIX, { unlocks: true });
    const b = await instance(DEFAULT_THROTTLE_KEY_PREFIX, { unlocks: true });
    // A lockout in A's memory (Redis down), then one in Redis (through B).
    await server.stop();
    for (let i = 0; i < 10; i++) await call(a.url, `wrong-guess-${i}`);
    await server.start();
    await Promise.all([whenRedisReady(a.redis), whenRedisReady(b.redis)]);
    for (let i = 0; i < 10; i++) await call(b.url, `wrong-guess-${i}`);
    expect((await call(b.url, RIGHT())).status).toBe(429);

    // Both subscribers are back after the restart (a notice reaches only subscribed connections).
    await untilAsync(async () => Number(((await a.redis.call('PUBSUB', 'NUMSUB', UNLOCK_CHANNEL)) as unknown[])[1]) >= 2);
    const cli = await cliDeps({ url: 'http://127.0.0.1:9' } as LocalSecretsManager, { env: { USER: 'ops-alice' } });
    const code = await run(['unlock', '127.0.0.1', '--redis-url', server.url], cli.deps);
    const unlocked = () => [a, b].every((i) => i.logs.lines().some((l) => l.event === 'admin.unlocked'));
    await until(unlocked);
    await server.stop(); // A must not fall back on the lockout it held in memory
    const afterA = await call(a.url, RIGHT());
    const afterB = await call(b.url, RIGHT());

    expect(code).toBe(0);
    expect(cli.stdout()).toMatch(/Unlocked 127\.0\.0\.1/);
    expect([afterA.status, afterB.status]).toEqual([200, 200]);
    const line = a.logs.lines().find((l) => l.event === 'admin.unlocked');
    expect(line).toMatchObject({ clientAddress: '127.0.0.1', by: expect.stringMatching(/^ops-alice@/), heldInMemory: true });
  });
});
