import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFailureThrottle } from '../../src/service/failure-throttle.js';
import { REDIS_CLIENT_OPTIONS } from '../../src/service/redis-connection.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from './support/wait-for.js';
import { SHARED_REDIS_URL, startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from './support/redis-server.js';

const prefix = () => `test-throttle:${randomBytes(6).toString('hex')}:`;

describe('createFailureThrottle with Redis up', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    await whenRedisReady(redis);
  });

  afterAll(() => {
    redis.disconnect();
  });

  it('grants wrong credentials until the limit, then blocks the client with the time left', async () => {
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix() });

    const granted = [];
    for (let i = 0; i < 3; i++) granted.push(await throttle.decide('1.2.3.4', 'wrong'));
    const decision = await throttle.decide('1.2.3.4', 'wrong');

    expect(granted.map((r) => [r.blocked, r.attempts, r.remaining, r.store])).toEqual([
      [false, 1, 2, 'redis'],
      [false, 2, 1, 'redis'],
      [false, 3, 0, 'redis'],
    ]);
    expect(decision.blocked).toBe(true);
    expect(decision.retryAfterSeconds).toBeGreaterThan(55);
    expect(decision.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await throttle.peek('1.2.3.4')).blocked).toBe(true);
    expect((await throttle.decide('1.2.3.4', 'right')).blocked).toBe(true);
    expect((await throttle.decide('5.6.7.8', 'wrong')).blocked).toBe(false);
  });

  it('decides atomically: of many concurrent wrong credentials exactly the limit are granted', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 60_000, keyPrefix });

    const all = await Promise.all(Array.from({ length: 100 }, () => throttle.decide('2.2.2.2', 'wrong')));

    expect(all.filter((r) => !r.blocked)).toHaveLength(10);
    expect(await redis.hget(`${keyPrefix}2.2.2.2`, 'n')).toBe('10');
  });

  it('never counts a right credential, however many are in flight', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix });
    await throttle.decide('r', 'wrong');

    const rights = await Promise.all(Array.from({ length: 50 }, () => throttle.decide('r', 'right')));
    const second = await throttle.decide('r', 'wrong');

    expect(rights.every((r) => !r.blocked)).toBe(true);
    expect(second).toMatchObject({ blocked: false, attempts: 2, remaining: 0 });
    expect(await redis.hget(`${keyPrefix}r`, 'n')).toBe('2');
  });

  it('shares the count across instances through Redis', async () => {
    const keyPrefix = prefix();
    const a = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });
    const b = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });

    await a.decide('9.9.9.9', 'wrong');
    await a.decide('9.9.9.9', 'wrong');
    await b.decide('9.9.9.9', 'wrong');
    await b.decide('9.9.9.9', 'wrong');

    expect((await a.peek('9.9.9.9')).blocked).toBe(true);
    expect((await b.decide('9.9.9.9', 'wrong')).blocked).toBe(true);
  });

  it('counts a reservation once however often its script runs (a resend after a dropped connection)', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix, newId: () => 'the-same-reservation' });

    const first = await throttle.decide('d', 'wrong');
    const again = await throttle.decide('d', 'wrong');

    expect([first.blocked, again.blocked]).toEqual([false, false]);
    expect(await redis.hget(`${keyPrefix}d`, 'n')).toBe('1');
  });

  it('carries over the counter an earlier version left, window included', async () => {
    const keyPrefix = prefix();
    await redis.set(`${keyPrefix}old`, '3', 'PX', 30_000);
    const throttle = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });

    const decision = await throttle.decide('old', 'wrong');

    expect(decision).toMatchObject({ blocked: false, attempts: 4, remaining: 0 });
    expect(await redis.pttl(`${keyPrefix}old`)).toBeLessThanOrEqual(30_000);
  });

  it('sets the window once, at the first failure', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 5_000, keyPrefix });

    await throttle.decide('c', 'wrong');
    const ttl1 = await redis.pttl(`${keyPrefix}c`);
    // Some of the window has gone by: a second attempt that set it again would put it back near 5 s.
    await waitFor(async () => (await redis.pttl(`${keyPrefix}c`)) < ttl1 - 20);
    await throttle.decide('c', 'wrong');
    const ttl2 = await redis.pttl(`${keyPrefix}c`);

    expect(ttl1).toBeGreaterThan(4_000);
    expect(ttl2).toBeLessThan(ttl1 - 20);
  });

  it('leaves no key for a client that only sent right credentials', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, keyPrefix });

    await throttle.decide('ok', 'right');
    await throttle.peek('ok');

    expect(await redis.exists(`${keyPrefix}ok`)).toBe(0);
  });

  it('names the key that holds a client\'s count', () => {
    expect(createFailureThrottle({ redis }).keyFor('203.0.113.9')).toBe('admin-auth-failures:203.0.113.9');
  });
});

describe('createFailureThrottle with Redis down', () => {
  let server: ThrowawayRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startThrowawayRedis();
    redis = new Redis(server.url, REDIS_CLIENT_OPTIONS);
    redis.on('error', () => {});
    await whenRedisReady(redis);
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  async function up(): Promise<void> {
    if (server.pid === undefined) await server.start();
    await whenRedisReady(redis);
  }

  it('still blocks per instance, at once, when Redis is stopped', async () => {
    await server.stop();
    const clock = new FakeClock();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix(), clock });

    const started = Date.now();
    const granted = [];
    for (let i = 0; i < 3; i++) granted.push(await throttle.decide('6.6.6.6', 'wrong'));
    const decision = await throttle.decide('6.6.6.6', 'wrong');

    expect(granted.map((r) => [r.blocked, r.store])).toEqual(Array(3).fill([false, 'memory']));
    expect(decision).toMatchObject({ blocked: true, retryAfterSeconds: 60 });
    expect(await throttle.peek('6.6.6.6')).toEqual({ blocked: true, retryAfterSeconds: 60 });
    expect((await throttle.decide('6.6.6.6', 'right')).blocked).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    await clock.advance(60_000);
    expect((await throttle.decide('6.6.6.6', 'wrong')).blocked).toBe(false);
    await up();
  });

  it('grants from memory only what Redis\'s last word left: no second budget', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 60_000, keyPrefix });
    for (let i = 0; i < 7; i++) await throttle.decide('m3', 'wrong');
    await server.stop();

    const fromMemory = [];
    for (let i = 0; i < 5; i++) fromMemory.push(await throttle.decide('m3', 'wrong'));

    expect(fromMemory.map((d) => [d.blocked, d.attempts, d.remaining, d.store])).toEqual([
      [false, 8, 2, 'memory'],
      [false, 9, 1, 'memory'],
      [false, 10, 0, 'memory'],
      [true, 10, 0, 'memory'],
      [true, 10, 0, 'memory'],
    ]);
    await up();
  });

  it('settles what memory answered into Redis once Redis answers again, and gives back what it refused', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix });
    await server.stop();
    for (let i = 0; i < 4; i++) await throttle.decide('s', 'wrong'); // 3 granted, 1 refused
    await up();

    const next = await throttle.decide('s', 'right'); // Redis answers: what is owed is paid after it
    await until(async () => (await redis.hget(`${keyPrefix}s`, 'n')) === '3');
    const settled = await throttle.decide('s', 'right');

    // Before the settlements land, Redis's count (0) plus what memory answered: still locked out.
    expect(next).toMatchObject({ blocked: true, store: 'redis', attempts: 3 });
    expect(settled).toMatchObject({ blocked: true, store: 'redis', attempts: 3 });
    expect(await redis.hlen(`${keyPrefix}s`)).toBe(4); // n and the three reservations
  });

  it('counts once a wrong credential answered from memory whose script reached Redis late: the owner is not locked out by it', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix, redisTimeoutMs: 100, guessTimeoutMs: 100 });
    server.pause();
    const typo = await throttle.decide('late', 'wrong'); // memory answers; its script waits in the socket
    server.resume();
    await until(async () => (await redis.hget(`${keyPrefix}late`, 'n')) === '1'); // the late script ran

    const right = await throttle.decide('late', 'right');

    expect(typo).toMatchObject({ blocked: false, store: 'memory' });
    expect(right).toMatchObject({ blocked: false, store: 'redis', attempts: 1, remaining: 1 });
  });

  it('makes a right and a wrong token wait for a slow Redis alike, so a client Redis locked out learns nothing from 200 against 429', async () => {
    const clock = new FakeClock();
    let answer: ((reply: unknown) => void)[] = [];
    // Redis has this client locked out (10 counted elsewhere) and answers late: after 1 s.
    const stand = { eval: () => new Promise<unknown>((resolve) => answer.push(resolve)) } as unknown as Pick<Redis, 'eval'>;
    const throttle = createFailureThrottle({ redis: stand, maxFailures: 10, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 2_000, clock });

    const decisions = Promise.all([throttle.decide('8.8.8.8', 'right'), throttle.decide('8.8.8.8', 'wrong')]);
    await clock.advance(1_000);
    for (const resolve of answer) resolve([10, 59_000, 0]);
    answer = [];
    const [right, wrong] = await decisions;

    expect([right.blocked, right.store]).toEqual([true, 'redis']);
    expect([wrong.blocked, wrong.store]).toEqual([true, 'redis']);
  });

  it('answers a client Redis last showed locked out in the same time whether its token is right or wrong: no timing tell while Redis is silent', async () => {
    const clock = new FakeClock();
    let silent = false;
    // Redis's last word: 10 wrong credentials in the window. Then it stops answering.
    const stand = { eval: () => (silent ? new Promise<unknown>(() => {}) : Promise.resolve([10, 60_000, 0])) } as unknown as Pick<Redis, 'eval'>;
    const throttle = createFailureThrottle({ redis: stand, maxFailures: 10, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 2_000, clock });
    expect((await throttle.decide('9.9.9.9', 'right')).blocked).toBe(true);
    silent = true;

    const answeredAt: Record<string, number> = {};
    const started = clock.now();
    for (const credential of ['right', 'wrong'] as const) void throttle.decide('9.9.9.9', credential).then((d) => (answeredAt[credential] = d.blocked ? clock.now() - started : -1));
    await clock.advance(250);

    expect(answeredAt).toEqual({ right: 250, wrong: 250 });
  });

  it('answers a right credential from memory within its deadline when Redis accepts connections but never answers', async () => {
    await up();
    server.pause();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix: prefix(), redisTimeoutMs: 100, guessTimeoutMs: 300 });

    try {
      const started = Date.now();
      const right = await throttle.decide('7.7.7.7', 'right');
      await throttle.decide('7.7.7.7', 'wrong');
      await throttle.decide('7.7.7.7', 'wrong');
      const decision = await throttle.decide('7.7.7.7', 'wrong');

      expect(right).toMatchObject({ blocked: false, store: 'memory' });
      expect(decision).toMatchObject({ blocked: true, store: 'memory' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.resume();
    }
  });

  it('forgets a client on unlock: its memory count and what it owed Redis, and only that client\'s', async () => {
    await server.stop();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix });
    await throttle.decide('203.0.113.5', 'wrong');
    await throttle.decide('203.0.113.6', 'wrong');
    await throttle.decide('203.0.113.5', 'wrong');
    expect((await throttle.peek('203.0.113.5')).blocked).toBe(true);

    expect(throttle.forget('203.0.113.5')).toBe(true);
    expect(throttle.forget('203.0.113.5')).toBe(false);
    expect((await throttle.peek('203.0.113.5')).blocked).toBe(false);
    await up();
    await throttle.decide('203.0.113.5', 'right');
    // What 203.0.113.6 was owed is paid after the reply; 203.0.113.5's, before it in line, was dropped.
    await until(async () => (await redis.hget(`${keyPrefix}203.0.113.6`, 'n')) === '1');
    expect(await redis.exists(`${keyPrefix}203.0.113.5`)).toBe(0);
  });

  it('owes Redis at most maxOwed calls while it does not answer, dropping the oldest', async () => {
    await server.stop();
    const keyPrefix = prefix();
    let n = 0;
    const throttle = createFailureThrottle({ redis, maxFailures: 5, windowMs: 60_000, keyPrefix, maxOwed: 2, newId: () => `owed-${++n}` });
    for (let i = 0; i < 3; i++) await throttle.decide('o', 'wrong');
    await up();

    await throttle.decide('o', 'right');
    // Paid in order: by the time the last is in Redis, any older one still owed would be too.
    await until(async () => (await redis.hexists(`${keyPrefix}o`, 'owed-3')) === 1);

    expect(await redis.hmget(`${keyPrefix}o`, 'n', 'owed-1', 'owed-2')).toEqual(['2', null, '1']);
  });

  it('drops what it owed Redis for a window that has ended: an old typo is not counted in a new window', async () => {
    await server.stop();
    const clock = new FakeClock();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix, clock });
    await throttle.decide('e', 'wrong');
    await throttle.decide('e', 'wrong');
    await clock.advance(60_000);
    await up();

    // Anything paid after this reply is sent on this connection before the next command.
    const right = await throttle.decide('e', 'right');

    expect(right).toMatchObject({ blocked: false, attempts: 0, store: 'redis' });
    expect(await redis.exists(`${keyPrefix}e`)).toBe(0);
  });

  it('keeps a bounded table of clients', async () => {
    await server.stop();
    const throttle = createFailureThrottle({ redis, maxFailures: 1, windowMs: 60_000, keyPrefix: prefix(), maxLocalClients: 3 });

    for (const c of ['a', 'b', 'c', 'd']) await throttle.decide(c, 'wrong');

    expect((await throttle.peek('a')).blocked).toBe(false);
    expect(await Promise.all(['b', 'c', 'd'].map(async (c) => (await throttle.peek(c)).blocked))).toEqual([true, true, true]);
    await up();
  });
});

/** Polls an asynchronous condition (a write this test cannot subscribe to), failing after 10 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
