import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/service/app.js';
import { loadServiceConfig } from '../../src/service/config.js';
import { createFailureThrottle } from '../../src/service/failure-throttle.js';
import { createLogger } from '../../src/service/logger.js';
import type { ServiceEngine } from '../../src/service/service-engine.js';
import { captureLogs, type LogCapture } from './support/log-capture.js';
import { freePort } from './support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { SHARED_REDIS_URL, whenRedisReady } from './support/redis-server.js';
import { startHarness, testSecrets, type Harness } from './support/service-harness.js';

let db: ThrowawayDatabase;
let up: Harness;
let down: Harness;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  db = await throwawayDatabase('svc_admin_auth');
  up = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
  await whenRedisReady(up.redis);
  // Nothing listens on this port: every Redis call fails at once.
  down = await startHarness({ env: testSecrets(db.url, `redis://127.0.0.1:${await freePort()}`) });
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

afterAll(async () => {
  await up.close();
  await down.close();
  await db.drop();
});

/** Counts every time admin auth asks for the accepted tokens: one ask per comparison made. */
function countingEngine(h: Harness): { engine: ServiceEngine; comparisons: () => number } {
  let n = 0;
  return {
    engine: {
      status: () => h.engine.status(),
      refresh: () => h.engine.refresh(),
      accepted: (name) => {
        if (name === 'ADMIN_TOKEN') n++;
        return h.engine.accepted(name);
      },
    },
    comparisons: () => n,
  };
}

interface Instance {
  readonly app: FastifyInstance;
  readonly logs: LogCapture;
  comparisons(): number;
}

/**
 * One more service instance over the harness's engine, database and Redis, with a throttle key
 * prefix given by the test. A Redis call that outlives the throttle's deadlines (250 ms for a right
 * token, 2 s for a wrong one, by default) is "Redis down" and falls back to counting per instance;
 * 200 requests at once on a loaded machine can take that long, which is not what these tests are
 * about, so the deadline is long.
 */
async function instance(h: Harness, keyPrefix: string, trustProxy?: string): Promise<Instance> {
  const logs = captureLogs();
  const counting = countingEngine(h);
  const app = await buildApp({
    engine: counting.engine,
    database: h.database,
    redis: h.redis,
    logger: createLogger({ level: 'info', destination: logs.stream }),
    throttle: createFailureThrottle({ redis: h.redis, keyPrefix, redisTimeoutMs: 5_000 }),
    options: { logRequests: false, ...(trustProxy !== undefined && { trustProxy: loadServiceConfig({ TRUST_PROXY: trustProxy }).trustProxy }) },
  });
  apps.push(app);
  return { app, logs, comparisons: counting.comparisons };
}

const prefix = () => `test-admin-auth-race:${randomBytes(6).toString('hex')}:`;
const health = (app: FastifyInstance, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress, headers });

describe('the failure throttle decides before the outcome is revealed', () => {
  // Every token is compared in process; what the throttle bounds is how many wrong ones are
  // answered as wrong (401): a 429 says nothing of the token it refused.
  it('answers at most 10 of 200 concurrent wrong tokens from one client as wrong across two instances sharing Redis', async () => {
    const keyPrefix = prefix();
    const a = await instance(up, keyPrefix);
    const b = await instance(up, keyPrefix);

    const codes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => health(i % 2 === 0 ? a.app : b.app, '10.20.0.1', { 'x-admin-token': `wrong-guess-${i}` }).then((r) => r.statusCode)),
    );

    const wrong = codes.filter((c) => c === 401).length;
    expect(wrong).toBeLessThanOrEqual(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(200 - wrong);
    expect(await up.redis.hget(`${keyPrefix}10.20.0.1`, 'n')).toBe(String(wrong));
  });

  it('answers at most 10 per instance as wrong when Redis is down', async () => {
    const keyPrefix = prefix();
    const a = await instance(down, keyPrefix);
    const b = await instance(down, keyPrefix);

    const codes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => health(i % 2 === 0 ? a.app : b.app, '10.20.0.2', { 'x-admin-token': `wrong-guess-${i}` }).then((r) => r.statusCode)),
    );

    const wrongAt = (parity: number) => codes.filter((c, i) => i % 2 === parity && c === 401).length;
    expect(wrongAt(0)).toBeLessThanOrEqual(10);
    expect(wrongAt(1)).toBeLessThanOrEqual(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(200 - wrongAt(0) - wrongAt(1));
  });

  it('refuses the right token inside a concurrent burst once the budget is spent', async () => {
    const a = await instance(up, prefix());

    const wrong = Array.from({ length: 149 }, (_, i) => health(a.app, '10.20.0.3', { 'x-admin-token': `wrong-guess-${i}` }));
    const right = health(a.app, '10.20.0.3', { 'x-admin-token': up.env.ADMIN_TOKEN! });
    const codes = (await Promise.all(wrong)).map((r) => r.statusCode);

    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(10);
    expect((await right).statusCode).toBe(429);
  });

  it('never counts a correct token', async () => {
    const a = await instance(up, prefix());
    for (let i = 0; i < 9; i++) await health(a.app, '10.20.0.4', { 'x-admin-token': `wrong-guess-${i}` });

    const right = await health(a.app, '10.20.0.4', { 'x-admin-token': up.env.ADMIN_TOKEN! });
    const tenthWrong = await health(a.app, '10.20.0.4', { 'x-admin-token': 'wrong-guess-last' });
    const locked = await health(a.app, '10.20.0.4', { 'x-admin-token': up.env.ADMIN_TOKEN! });

    expect(right.statusCode).toBe(200);
    expect(tenthWrong.statusCode).toBe(401);
    expect(locked.statusCode).toBe(429);
  });
});

describe('a missing token header', () => {
  it('does not burn an attempt, and is never compared', async () => {
    const a = await instance(up, prefix());

    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push((await health(a.app, '10.20.1.1')).statusCode);
    const right = await health(a.app, '10.20.1.1', { 'x-admin-token': up.env.ADMIN_TOKEN! });

    expect(codes).toEqual(Array(25).fill(401));
    expect(a.comparisons()).toBe(1);
    expect(right.statusCode).toBe(200);
  });

  it('still gets 429 while its client is locked out', async () => {
    const a = await instance(up, prefix());
    for (let i = 0; i < 10; i++) await health(a.app, '10.20.1.2', { 'x-admin-token': `wrong-guess-${i}` });

    const res = await health(a.app, '10.20.1.2');

    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it.each([
    ['no header', {}],
    ['a wrong token', { 'x-admin-token': 'wrong-guess-hint' }],
  ])('answers 401 naming the expected header, and nothing else, for %s', async (_label, headers) => {
    const a = await instance(up, prefix());

    const res = await health(a.app, '10.20.1.3', headers);

    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'Missing or invalid admin token: send it in the x-admin-token header' },
      requestId: res.headers['x-request-id'],
    });
  });
});

describe('the lockout', () => {
  it('tells the operator, once, which client is locked out, until when, and the Redis key that clears it', async () => {
    const keyPrefix = prefix();
    const a = await instance(up, keyPrefix);

    for (let i = 0; i < 12; i++) await health(a.app, '10.20.2.1', { 'x-admin-token': `wrong-guess-${i}` });

    const lockouts = a.logs.lines().filter((l) => l.event === 'admin.lockout');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]).toMatchObject({ clientAddress: '10.20.2.1', redisKey: `${keyPrefix}10.20.2.1`, failures: 10 });
    expect(Date.parse(String(lockouts[0]!.until))).toBeGreaterThan(Date.now() + 9 * 60_000);
  });

  it('ends when the documented Redis key is deleted', async () => {
    const keyPrefix = prefix();
    const a = await instance(up, keyPrefix);
    for (let i = 0; i < 10; i++) await health(a.app, '10.20.2.2', { 'x-admin-token': `wrong-guess-${i}` });
    expect((await health(a.app, '10.20.2.2', { 'x-admin-token': up.env.ADMIN_TOKEN! })).statusCode).toBe(429);

    await up.redis.del(`${keyPrefix}10.20.2.2`);

    expect((await health(a.app, '10.20.2.2', { 'x-admin-token': up.env.ADMIN_TOKEN! })).statusCode).toBe(200);
  });
});

describe('TRUST_PROXY behind one load balancer', () => {
  it('throttles the real peer whatever leftmost X-Forwarded-For entries it forges, and audits the real peer', async () => {
    const a = await instance(up, prefix(), '1');
    const loadBalancer = '10.0.0.5';
    const realPeer = '198.51.100.7';

    const codes: number[] = [];
    for (let i = 0; i < 15; i++) {
      // The client writes the leftmost entry; the load balancer appends the address it saw.
      const res = await health(a.app, loadBalancer, { 'x-admin-token': `wrong-guess-${i}`, 'x-forwarded-for': `203.0.113.${i + 1}, ${realPeer}` });
      codes.push(res.statusCode);
    }

    expect(codes).toEqual([...Array(10).fill(401), ...Array(5).fill(429)]);
    const audit = a.logs.lines().filter((l) => l.event === 'admin.audit');
    expect(audit).toHaveLength(15);
    for (const line of audit) expect(line.clientAddress).toBe(realPeer);
  });

  it('counts every spelling of one IPv6 client as that one client, under the key a socket would give it', async () => {
    const keyPrefix = prefix();
    const a = await instance(up, keyPrefix, '1');
    const spellings = ['2001:DB8::7', '2001:db8:0:0::7', '2001:0db8:0000:0000:0000:0000:0000:0007'];

    const codes: number[] = [];
    for (let i = 0; i < 15; i++) {
      codes.push((await health(a.app, '10.0.0.5', { 'x-admin-token': `wrong-guess-${i}`, 'x-forwarded-for': spellings[i % 3]! })).statusCode);
    }

    expect(codes).toEqual([...Array(10).fill(401), ...Array(5).fill(429)]);
    expect(await up.redis.exists(`${keyPrefix}2001:db8::7`)).toBe(1);
  });

  it('trusts only the listed proxy addresses', async () => {
    const a = await instance(up, prefix(), '10.0.0.0/8');

    const viaProxy = await health(a.app, '10.0.0.5', { 'x-admin-token': 'wrong-guess-a', 'x-forwarded-for': '198.51.100.8' });
    const direct = await health(a.app, '192.0.2.9', { 'x-admin-token': 'wrong-guess-b', 'x-forwarded-for': '198.51.100.9' });

    const audit = a.logs.lines().filter((l) => l.event === 'admin.audit');
    expect([viaProxy.statusCode, direct.statusCode]).toEqual([401, 401]);
    expect(audit.map((l) => l.clientAddress)).toEqual(['198.51.100.8', '192.0.2.9']);
  });
});
