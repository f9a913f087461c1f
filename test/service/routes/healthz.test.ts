import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { createSecretsEngine, SourceError } from '../../../src/engine/index.js';
import { buildApp } from '../../../src/service/app.js';
import { createLogger } from '../../../src/service/logger.js';
import { FakeClock } from '../../support/fake-clock.js';
import { MemorySource } from '../../support/memory-source.js';
import { startHarness, testSecrets, type Harness } from '../support/service-harness.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../support/postgres.js';
import { SHARED_REDIS_URL, startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from '../support/redis-server.js';
import type { HealthzBody } from '../../../src/service/routes/healthz.js';
import { freePort } from '../support/free-port.js';
import { PLACEHOLDERS } from '../../../src/provisioning/placeholder.js';

describe('GET /healthz', () => {
  let db: ThrowawayDatabase;
  let h: Harness;

  beforeAll(async () => {
    db = await throwawayDatabase('svc_healthz');
    h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
    await whenRedisReady(h.redis);
  });

  afterAll(async () => {
    await h.close();
    await db.drop();
  });

  it("answers ok with the seed's shape when everything is up", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });

    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(Object.keys(body.services.secrets).sort()).toEqual(
      ['cacheAge', 'cacheExpired', 'initialized', 'lastRefresh', 'placeholders', 'requiredSecretsOk', 'secretsLoaded', 'source', 'status', 'region', 'regionSince', 'degraded'].sort(),
    );
    expect(body.services.secrets).toMatchObject({ status: 'healthy', initialized: true, source: 'env', secretsLoaded: 9, requiredSecretsOk: true, cacheExpired: false });
    expect(body.services.secrets).toMatchObject({ region: null, regionSince: null, degraded: null });
    expect(body.services.database).toMatchObject({ status: 'up', latencyMs: expect.any(Number) });
    expect(body.services.redis).toMatchObject({ status: 'up', latencyMs: expect.any(Number) });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('stays ok with the generated placeholders in .env mode, and names them', async () => {
    const real = { META_APP_SECRET: h.env.META_APP_SECRET, OPENAI_API_KEY: h.env.OPENAI_API_KEY };
    Object.assign(h.env, PLACEHOLDERS);
    await h.engine.refresh();
    try {
      const res = await h.app.inject({ method: 'GET', url: '/healthz' });
      const admin = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

      expect(res.json()).toMatchObject({ status: 'ok', services: { secrets: { status: 'healthy', placeholders: ['META_APP_SECRET', 'OPENAI_API_KEY'] } } });
      expect(admin.json()).toMatchObject({ placeholders: ['META_APP_SECRET', 'OPENAI_API_KEY'], secrets: { META_APP_SECRET: { placeholder: true }, ADMIN_TOKEN: { placeholder: false } } });
      for (const value of Object.values(PLACEHOLDERS)) expect(res.body + admin.body).not.toContain(value);
    } finally {
      Object.assign(h.env, real);
      await h.engine.refresh();
    }
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json().services.secrets.placeholders).toEqual([]);
  });

  it('needs no credentials and shows no value', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });

    for (const value of Object.values(h.env)) if (value !== undefined) expect(res.body).not.toContain(value);
  });

});

describe('GET /healthz over HTTP, one probe round shared for HEALTH_MAX_AGE_MS', () => {
  let db: ThrowawayDatabase;
  let redis: ThrowawayRedis;
  let h: Harness;
  const clock = new FakeClock(Date.now());
  const pings = { database: 0, redis: 0 };

  beforeAll(async () => {
    db = await throwawayDatabase('svc_healthz_shared');
    redis = await startThrowawayRedis();
    h = await startHarness({ env: testSecrets(db.url, redis.url), clock, listen: true, options: { healthMaxAgeMs: 1_000 } });
    await whenRedisReady(h.redis);
    // Count the probes where they leave for the wire (the app calls these very objects).
    const databasePing = h.database.ping.bind(h.database);
    h.database.ping = () => (pings.database++, databasePing());
    const redisPing = h.redis.ping.bind(h.redis) as () => Promise<'PONG'>;
    (h.redis as { ping: () => Promise<'PONG'> }).ping = () => (pings.redis++, redisPing());
  });

  afterAll(async () => {
    await h.close();
    await redis.stop();
    await db.drop();
  });

  const healthz = async () => (await fetch(`${h.url!}/healthz`)).json() as Promise<HealthzBody>;
  const redisPingsServed = async () => Number(/cmdstat_ping:calls=(\d+)/.exec(await h.redis.info('commandstats'))?.[1] ?? 0);

  it('answers 50 concurrent requests with one database and one Redis round trip, all with the same results', async () => {
    await clock.advance(1_000);
    const servedBefore = await redisPingsServed();
    pings.database = pings.redis = 0;

    const bodies = await Promise.all(Array.from({ length: 50 }, healthz));

    expect(pings).toEqual({ database: 1, redis: 1 });
    expect((await redisPingsServed()) - servedBefore).toBe(1);
    for (const body of bodies) {
      expect(body.status).toBe('ok');
      expect(body.services.database).toEqual(bodies[0]!.services.database);
      expect(body.services.redis).toMatchObject({ status: 'up', ageMs: 0 });
    }
  });

  it('says how old a shared result is, and shows a failure once the interval has passed', async () => {
    await clock.advance(1_000);
    expect((await healthz()).services.redis).toMatchObject({ status: 'up', ageMs: 0 });

    await redis.stop();
    while (h.redis.status === 'ready') await new Promise((r) => setTimeout(r, 10));
    await clock.advance(600);
    const shared = await healthz();
    await clock.advance(400);
    const fresh = await healthz();

    expect(shared.services.redis).toMatchObject({ status: 'up', ageMs: 600 });
    expect(shared.status).toBe('ok');
    expect(fresh.services.redis).toMatchObject({ status: 'down', code: 'NotConnected', ageMs: 0 });
    expect(fresh.status).toBe('degraded');
  });
});

describe('GET /healthz with a dependency down', () => {
  it('is degraded, naming Redis, when Redis is unreachable', async () => {
    const db = await throwawayDatabase('svc_healthz_redis');
    const h = await startHarness({ env: testSecrets(db.url, `redis://127.0.0.1:${await freePort()}`) });
    try {
      const res = await h.app.inject({ method: 'GET', url: '/healthz' });

      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('degraded');
      expect(res.json().services.redis).toMatchObject({ status: 'down', code: 'NotConnected' });
      expect(res.json().services.database.status).toBe('up');
    } finally {
      await h.close();
      await db.drop();
    }
  });

  it('is degraded, naming PostgreSQL, when the database is unreachable', async () => {
    const h = await startHarness({ env: testSecrets(`postgresql://postgres@127.0.0.1:${await freePort()}/x`, SHARED_REDIS_URL), waitForDatabase: false });
    try {
      await whenRedisReady(h.redis);
      await new Promise((r) => setTimeout(r, 100));
      const res = await h.app.inject({ method: 'GET', url: '/healthz' });

      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('degraded');
      expect(res.json().services.database).toMatchObject({ status: 'down', code: 'ECONNREFUSED' });
    } finally {
      await h.close();
    }
  });

  it('answers within its deadline when Redis accepts connections but never replies', async () => {
    const db = await throwawayDatabase('svc_healthz_hang');
    const redis = await startThrowawayRedis();
    const h = await startHarness({ env: testSecrets(db.url, redis.url), options: { healthTimeoutMs: 300 } });
    try {
      await whenRedisReady(h.redis);
      redis.pause();
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: 5 }, () => h.app.inject({ method: 'GET', url: '/healthz' })));

      expect(Date.now() - started).toBeLessThan(1_500);
      for (const res of responses) expect(res.json().services.redis).toMatchObject({ status: 'down', code: 'Timeout' });
    } finally {
      redis.resume();
      await h.close();
      await redis.stop();
      await db.drop();
    }
  });
});

describe('GET /healthz and the secrets cache', () => {
  it('is degraded while the secret store fails, serving cached values', async () => {
    const db = await throwawayDatabase('svc_healthz_store');
    const clock = new FakeClock(Date.now());
    const source = new MemorySource(() => clock.now());
    for (const [name, value] of Object.entries(testSecrets(db.url, SHARED_REDIS_URL))) source.put(name, value);
    const h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
    const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source, clock });
    await engine.initialize();
    const app = await buildApp({ engine, database: h.database, redis: h.redis, logger: createLogger({ level: 'silent' }), clock });
    try {
      await whenRedisReady(h.redis);
      source.failAll = new SourceError('InternalServiceError', true);
      await engine.refresh();

      const res = await app.inject({ method: 'GET', url: '/healthz' });

      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'degraded', services: { secrets: { status: 'degraded', source: 'aws', requiredSecretsOk: true } } });
    } finally {
      await app.close();
      engine.close();
      await h.close();
      await db.drop();
    }
  });

  it('is down with 503 when secrets are not initialized', async () => {
    const db = await throwawayDatabase('svc_healthz_uninit');
    const h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
    const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source: new MemorySource(() => Date.now()) });
    const app = await buildApp({ engine, database: h.database, redis: h.redis, logger: createLogger({ level: 'silent' }) });
    try {
      const res = await app.inject({ method: 'GET', url: '/healthz' });

      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'down', services: { secrets: { status: 'unhealthy', initialized: false } } });
    } finally {
      await app.close();
      await h.close();
      await db.drop();
    }
  });
});
