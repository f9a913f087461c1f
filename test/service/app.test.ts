import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/service/app.js';
import { DatabaseUnavailableError } from '../../src/service/errors.js';
import { createLogger } from '../../src/service/logger.js';
import { singleInstanceRedis } from '../../src/service/single-instance-redis.js';
import { captureLogs } from './support/log-capture.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { SHARED_REDIS_URL, whenRedisReady } from './support/redis-server.js';
import { isolatedThrottle, startHarness, testSecrets, type Harness } from './support/service-harness.js';

let db: ThrowawayDatabase;
let h: Harness;

beforeAll(async () => {
  db = await throwawayDatabase('svc_app');
  h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
  await whenRedisReady(h.redis);
});

afterAll(async () => {
  await h.close();
  await db.drop();
});

describe('buildApp', () => {
  it('gives every response its own request id and ignores one sent by the client', async () => {
    const a = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'client-chosen' } });
    const b = await h.app.inject({ method: 'GET', url: '/healthz' });

    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    expect(h.logs.text()).not.toContain('client-chosen');
  });

  it('answers unknown routes 404 with a generic body', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/.env' });

    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found' }, requestId: res.headers['x-request-id'] });
  });

  it('answers an unexpected failure 500 with a generic body and the request id, and logs it', async () => {
    const logs = captureLogs();
    const failing = {
      status: { state: 'ready' as const, lastErrorCode: null },
      ping: async () => {},
      query: async () => {
        throw Object.assign(new Error('relation "internal_table" at 10.0.0.5 is broken'), { code: 'XX000' });
      },
    };
    const app = await buildApp({
      engine: h.engine,
      database: failing,
      redis: h.redis,
      throttle: isolatedThrottle(h.redis),
      logger: createLogger({ level: 'info', destination: logs.stream }),
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/admin/salons', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error' }, requestId: res.headers['x-request-id'] });
      expect(res.body).not.toContain('internal_table');
      const logged = logs.lines().find((l) => l.event === 'http.unhandled_error');
      expect(logged).toMatchObject({ requestId: res.headers['x-request-id'], err: { code: 'XX000' } });
    } finally {
      await app.close();
    }
  });

  it('maps a dependency outage to 503, not 500', async () => {
    const down = {
      status: { state: 'starting' as const, lastErrorCode: 'ECONNREFUSED' },
      ping: async () => {},
      query: async () => {
        throw new DatabaseUnavailableError('ECONNREFUSED');
      },
    };
    const app = await buildApp({ engine: h.engine, database: down, redis: h.redis, throttle: isolatedThrottle(h.redis), logger: createLogger({ level: 'silent' }) });
    try {
      const res = await app.inject({ method: 'GET', url: '/admin/salons', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

      expect(res.statusCode).toBe(503);
    } finally {
      await app.close();
    }
  });

  it('sets nosniff on every response', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });

    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a JSON body over 64 KiB on routes other than the webhook', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/admin/refresh-secrets',
      headers: { 'x-admin-token': h.env.ADMIN_TOKEN!, 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }),
    });

    expect(res.statusCode).toBe(413);
  });

  it('answers malformed JSON 400 without echoing it', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/admin/refresh-secrets',
      headers: { 'x-admin-token': h.env.ADMIN_TOKEN!, 'content-type': 'application/json' },
      payload: '{"oops": secret-looking-input',
    });

    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('secret-looking-input');
    expect(h.logs.text()).not.toContain('secret-looking-input');
  });
});

describe('GET /metrics', () => {
  it('exposes request counts by route pattern and the secrets cache state, and no value', async () => {
    await h.app.inject({ method: 'GET', url: '/healthz' });
    await h.app.inject({ method: 'GET', url: `/webhook?hub.verify_token=${h.env.META_VERIFY_TOKEN}` });

    const res = await h.app.inject({ method: 'GET', url: '/metrics' });

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/http_requests_total\{method="GET",route="\/healthz",status_code="200"\} \d+/);
    expect(res.body).toContain('route="/webhook"');
    expect(res.body).toMatch(/secrets_loaded 9/);
    expect(res.body).toMatch(/secrets_required_ok 1/);
    for (const value of Object.values(h.env)) if (value !== undefined) expect(res.body).not.toContain(value);
  });

  it('can be turned off', async () => {
    const app = await buildApp({ engine: h.engine, database: h.database, redis: h.redis, logger: createLogger({ level: 'silent' }), options: { metrics: false } });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});

describe('buildApp for a single instance (no Redis at all)', () => {
  it('reports Redis off without degrading, and throttles wrong tokens in memory without a word about Redis', async () => {
    const logs = captureLogs();
    const app = await buildApp({
      engine: h.engine,
      database: h.database,
      redis: singleInstanceRedis(),
      logger: createLogger({ level: 'debug', destination: logs.stream }),
      singleInstance: true,
    });
    try {
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      const codes: number[] = [];
      for (let i = 0; i < 11; i++) {
        codes.push((await app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: '10.9.9.9', headers: { 'x-admin-token': `guess-${i}` } })).statusCode);
      }

      expect(health.json()).toMatchObject({ status: 'ok', services: { redis: { status: 'off', code: 'SingleInstance' }, database: { status: 'up' } } });
      expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(codes[10]).toBe(429);
      expect(logs.text()).not.toMatch(/throttle\.redis_unavailable|Redis/);
    } finally {
      await app.close();
    }
  });
});
