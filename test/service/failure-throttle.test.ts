import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFailureThrottle } from '../../src/service/failure-throttle.js';
import { REDIS_CLIENT_OPTIONS } from '../../src/service/redis-connection.js';
import { FakeClock } from '../support/fake-clock.js';
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

  it('lets a client through until it reaches the failure limit, then blocks it with the time left', async () => {
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix() });

    for (let i = 0; i < 3; i++) {
      expect((await throttle.check('1.2.3.4')).blocked).toBe(false);
      await throttle.recordFailure('1.2.3.4');
    }
    const decision = await throttle.check('1.2.3.4');

    expect(decision.blocked).toBe(true);
    expect(decision.retryAfterSeconds).toBeGreaterThan(55);
    expect(decision.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await throttle.check('5.6.7.8')).blocked).toBe(false);
  });

  it('shares the count across instances through Redis', async () => {
    const keyPrefix = prefix();
    const a = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });
    const b = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });

    await a.recordFailure('9.9.9.9');
    await a.recordFailure('9.9.9.9');
    await b.recordFailure('9.9.9.9');
    await b.recordFailure('9.9.9.9');

    expect((await a.check('9.9.9.9')).blocked).toBe(true);
    expect((await b.check('9.9.9.9')).blocked).toBe(true);
  });

  it('sets the window once, at the first failure', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 5_000, keyPrefix });

    await throttle.recordFailure('c');
    const ttl1 = await redis.pttl(`${keyPrefix}c`);
    await new Promise((r) => setTimeout(r, 50));
    await throttle.recordFailure('c');
    const ttl2 = await redis.pttl(`${keyPrefix}c`);

    expect(ttl1).toBeGreaterThan(4_000);
    expect(ttl2).toBeLessThan(ttl1);
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
    for (let i = 0; i < 3; i++) await throttle.recordFailure('6.6.6.6');
    const decision = await throttle.check('6.6.6.6');

    expect(decision).toEqual({ blocked: true, retryAfterSeconds: 60 });
    expect(Date.now() - started).toBeLessThan(500);
    await clock.advance(60_000);
    expect((await throttle.check('6.6.6.6')).blocked).toBe(false);
    await server.start();
  });

  it('bounds every call when Redis accepts connections but never answers', async () => {
    await whenRedisReady(redis);
    server.pause();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix: prefix(), redisTimeoutMs: 100 });

    try {
      const started = Date.now();
      await throttle.recordFailure('7.7.7.7');
      await throttle.recordFailure('7.7.7.7');
      const decision = await throttle.check('7.7.7.7');

      expect(decision.blocked).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      server.resume();
    }
  });

  it('keeps a bounded table of clients', async () => {
    await server.stop();
    const throttle = createFailureThrottle({ redis, maxFailures: 1, windowMs: 60_000, keyPrefix: prefix(), maxLocalClients: 3 });

    for (const c of ['a', 'b', 'c', 'd']) await throttle.recordFailure(c);

    expect((await throttle.check('a')).blocked).toBe(false);
    expect((await throttle.check('d')).blocked).toBe(true);
  });
});
