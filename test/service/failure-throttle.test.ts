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

  it('grants attempts until the limit, then blocks the client with the time left', async () => {
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix() });

    const granted = [];
    for (let i = 0; i < 3; i++) granted.push(await throttle.reserve('1.2.3.4'));
    const decision = await throttle.reserve('1.2.3.4');

    expect(granted.map((r) => [r.blocked, r.attempts, r.remaining, r.store])).toEqual([
      [false, 1, 2, 'redis'],
      [false, 2, 1, 'redis'],
      [false, 3, 0, 'redis'],
    ]);
    expect(decision.blocked).toBe(true);
    expect(decision.retryAfterSeconds).toBeGreaterThan(55);
    expect(decision.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await throttle.peek('1.2.3.4')).blocked).toBe(true);
    expect((await throttle.reserve('5.6.7.8')).blocked).toBe(false);
  });

  it('reserves atomically: of many concurrent attempts exactly the limit are granted', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 60_000, keyPrefix });

    const all = await Promise.all(Array.from({ length: 100 }, () => throttle.reserve('2.2.2.2')));

    expect(all.filter((r) => !r.blocked)).toHaveLength(10);
    expect(await redis.get(`${keyPrefix}2.2.2.2`)).toBe('10');
  });

  it('shares the count across instances through Redis', async () => {
    const keyPrefix = prefix();
    const a = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });
    const b = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });

    await a.reserve('9.9.9.9');
    await a.reserve('9.9.9.9');
    await b.reserve('9.9.9.9');
    await b.reserve('9.9.9.9');

    expect((await a.peek('9.9.9.9')).blocked).toBe(true);
    expect((await b.reserve('9.9.9.9')).blocked).toBe(true);
  });

  it('takes a released reservation back once, ignores releasing a refused one, and leaves no key at zero', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix });

    const first = await throttle.reserve('r');
    const second = await throttle.reserve('r');
    await second.release();
    await second.release();
    const third = await throttle.reserve('r');
    const refused = await throttle.reserve('r');
    await refused.release();
    const atLimit = await redis.get(`${keyPrefix}r`);
    await third.release();
    await first.release();

    expect([third.blocked, refused.blocked, atLimit]).toEqual([false, true, '2']);
    expect(await redis.exists(`${keyPrefix}r`)).toBe(0);
  });

  it('sets the window once, at the first attempt', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 5_000, keyPrefix });

    await throttle.reserve('c');
    const ttl1 = await redis.pttl(`${keyPrefix}c`);
    // Some of the window has gone by: a second attempt that set it again would put it back near 5 s.
    await waitFor(async () => (await redis.pttl(`${keyPrefix}c`)) < ttl1 - 20);
    await throttle.reserve('c');
    const ttl2 = await redis.pttl(`${keyPrefix}c`);

    expect(ttl1).toBeGreaterThan(4_000);
    expect(ttl2).toBeLessThan(ttl1 - 20);
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

  it('still blocks per instance, at once, when Redis is stopped', async () => {
    await server.stop();
    const clock = new FakeClock();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix(), clock });

    const started = Date.now();
    const granted = [];
    for (let i = 0; i < 3; i++) granted.push(await throttle.reserve('6.6.6.6'));
    const decision = await throttle.reserve('6.6.6.6');

    expect(granted.map((r) => [r.blocked, r.store])).toEqual(Array(3).fill([false, 'memory']));
    expect(decision).toMatchObject({ blocked: true, retryAfterSeconds: 60 });
    expect(await throttle.peek('6.6.6.6')).toEqual({ blocked: true, retryAfterSeconds: 60 });
    expect(Date.now() - started).toBeLessThan(500);
    await clock.advance(60_000);
    expect((await throttle.reserve('6.6.6.6')).blocked).toBe(false);
    await server.start();
  });

  it('bounds every call when Redis accepts connections but never answers', async () => {
    await whenRedisReady(redis);
    server.pause();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix: prefix(), redisTimeoutMs: 100 });

    try {
      const started = Date.now();
      await throttle.reserve('7.7.7.7');
      await throttle.reserve('7.7.7.7');
      const decision = await throttle.reserve('7.7.7.7');

      expect(decision.blocked).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      server.resume();
    }
  });

  it('keeps a bounded table of clients', async () => {
    await server.stop();
    const throttle = createFailureThrottle({ redis, maxFailures: 1, windowMs: 60_000, keyPrefix: prefix(), maxLocalClients: 3 });

    for (const c of ['a', 'b', 'c', 'd']) await throttle.reserve(c);

    expect((await throttle.peek('a')).blocked).toBe(false);
    expect((await throttle.peek('d')).blocked).toBe(true);
  });

  it('gives a released reservation back in memory too', async () => {
    await server.stop();
    const throttle = createFailureThrottle({ redis, maxFailures: 1, windowMs: 60_000, keyPrefix: prefix() });

    await (await throttle.reserve('m')).release();
    const again = await throttle.reserve('m');

    expect(again).toMatchObject({ blocked: false, store: 'memory' });
    expect((await throttle.reserve('m')).blocked).toBe(true);
  });
});
