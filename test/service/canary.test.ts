import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsappSaasSpec } from '../../src/catalog/whatsapp-saas.js';
import { buildApp } from '../../src/service/app.js';
import { createLogger } from '../../src/service/logger.js';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { captureLogs } from './support/log-capture.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from './support/redis-server.js';
import { startHarness, type Harness } from './support/service-harness.js';

/** The same database URL with a password in it (trust auth ignores it, so it can be a canary). */
function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}

/**
 * Plants a unique value in every secret (the database and Redis passwords included), drives
 * every route through its success and failure paths, rotates, and then scans every log line,
 * response body and response header for any planted value.
 */
describe('canary: no secret value in any output', () => {
  let db: ThrowawayDatabase;
  let redisServer: ThrowawayRedis;
  let h: Harness;
  const outputs: string[] = [];
  const canaries = {
    ADMIN_TOKEN: 'CANARY-admin-4c1f8e2a9d7b3e5f7a9c1d',
    ADMIN_TOKEN_PREVIOUS: 'CANARY-admin-prev-0e3b7d5f1a2c4e6a8b',
    META_VERIFY_TOKEN: 'CANARY-verify-8a2c6e0b4d',
    META_APP_SECRET: 'CANARY-appsecret-5f9d1b3e7c0a2c4e6f',
    META_APP_SECRET_PREVIOUS: 'CANARY-appsecret-prev-2b6d0f4a8e',
    OPENAI_API_KEY: 'sk-CANARY-openai-3e7a1c5b9f',
    WHATSAPP_ACCESS_TOKEN: 'CANARY-wa-access-6b0e4a8c2d',
    WHATSAPP_PHONE_NUMBER_ID: 'CANARY-phone-9d3f7b1e5a',
    DB_PASSWORD: 'CANARYdbpass7c2e9a4f',
    REDIS_PASSWORD: 'CANARYredispass1a5e3c8b',
    ROTATED_ADMIN: 'CANARY-admin-rotated-8f2a6c0e4b1d3f',
    ROTATED_APP_SECRET: 'CANARY-appsecret-rotated-4d8b2f6a0c',
  };

  beforeAll(async () => {
    db = await throwawayDatabase('svc_canary');
    redisServer = await startThrowawayRedis({ password: canaries.REDIS_PASSWORD });
    const env: Record<string, string> = {
      ADMIN_TOKEN: canaries.ADMIN_TOKEN,
      ADMIN_TOKEN_PREVIOUS: canaries.ADMIN_TOKEN_PREVIOUS,
      ADMIN_TOKEN_ROTATED_AT: new Date().toISOString(),
      META_VERIFY_TOKEN: canaries.META_VERIFY_TOKEN,
      META_APP_SECRET: canaries.META_APP_SECRET,
      META_APP_SECRET_PREVIOUS: canaries.META_APP_SECRET_PREVIOUS,
      META_APP_SECRET_ROTATED_AT: new Date().toISOString(),
      OPENAI_API_KEY: canaries.OPENAI_API_KEY,
      WHATSAPP_ACCESS_TOKEN: canaries.WHATSAPP_ACCESS_TOKEN,
      WHATSAPP_PHONE_NUMBER_ID: canaries.WHATSAPP_PHONE_NUMBER_ID,
      // Trust auth ignores the password, so it can be a canary too.
      DATABASE_URL: withPassword(db.url, canaries.DB_PASSWORD),
      REDIS_URL: redisServer.url,
    };
    h = await startHarness({ env, options: { refreshPerMinute: 3 } });
    await whenRedisReady(h.redis);
  });

  afterAll(async () => {
    await h.close();
    await redisServer.stop();
    await db.drop();
  });

  async function drive(method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string> = {}, payload?: string | Buffer) {
    const res = await h.app.inject({ method, url, headers, ...(payload !== undefined && { payload }), remoteAddress: '10.9.9.9' });
    outputs.push(res.body, JSON.stringify(res.headers));
    return res;
  }

  it('drives every route, then finds no planted value anywhere', async () => {
    const admin = { 'x-admin-token': canaries.ADMIN_TOKEN };
    const signed = (body: string | Buffer, secret: string) => ({ 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, secret) });
    const event = '{"object":"whatsapp_business_account","entry":[{"id":"1"}]}';

    await drive('GET', '/healthz');
    await drive('GET', '/metrics');
    await drive('GET', '/admin/secrets/health', admin);
    expect((await drive('GET', '/admin/secrets/health', { 'x-admin-token': canaries.ADMIN_TOKEN_PREVIOUS })).statusCode).toBe(200);
    for (const asset of ['/admin/ui', '/admin/ui/app.js', '/admin/ui/app.css']) await drive('GET', asset, admin);
    await drive('GET', '/admin/salons?limit=2', admin);
    await drive('GET', '/admin/salons?limit=1000', admin);
    await drive('GET', '/admin/nope', admin);
    await drive('GET', `/webhook?hub.mode=subscribe&hub.verify_token=${canaries.META_VERIFY_TOKEN}&hub.challenge=123`);
    await drive('GET', `/webhook?hub.mode=subscribe&hub.verify_token=${canaries.META_VERIFY_TOKEN}x&hub.challenge=123`);
    await drive('POST', '/webhook', signed(event, canaries.META_APP_SECRET), event);
    expect((await drive('POST', '/webhook', signed(`${event} `, canaries.META_APP_SECRET_PREVIOUS), `${event} `)).statusCode).toBe(200);
    await drive('POST', '/webhook', signed(event, 'wrong'), event);
    await drive('POST', '/webhook', signed('not json', canaries.META_APP_SECRET), 'not json');
    await drive('POST', '/webhook', signed('x', canaries.META_APP_SECRET), Buffer.alloc(2 * 1024 * 1024, 0x20));
    await drive('POST', '/admin/refresh-secrets', { ...admin, 'content-type': 'application/json' }, `{"token":"${canaries.ADMIN_TOKEN}`);

    h.env.ADMIN_TOKEN = canaries.ROTATED_ADMIN;
    h.env.META_APP_SECRET = canaries.ROTATED_APP_SECRET;
    const refreshed = await drive('POST', '/admin/refresh-secrets', admin);
    expect(refreshed.json().changed).toEqual(['ADMIN_TOKEN', 'META_APP_SECRET']);
    await drive('GET', '/admin/secrets/health', { 'x-admin-token': canaries.ROTATED_ADMIN });
    await drive('POST', '/webhook', signed('{"object":"x"}', canaries.ROTATED_APP_SECRET), '{"object":"x"}');
    for (let i = 0; i < 11; i++) await drive('GET', '/admin/salons', { 'x-admin-token': `${canaries.ADMIN_TOKEN}-${i}` });
    // Refusals added by issue 7: no header, a lockout (its log line too), an undecodable URL.
    expect((await drive('GET', '/admin/secrets/health')).statusCode).toBe(429);
    expect(h.logs.lines().some((l) => l.event === 'admin.lockout')).toBe(true);
    expect((await drive('GET', `/%zz/${canaries.ROTATED_ADMIN}`)).statusCode).toBe(400);
    await drive('POST', '/admin/refresh-secrets', { 'x-admin-token': canaries.ROTATED_ADMIN });

    const failing = captureLogs();
    const broken = await buildApp({
      engine: h.engine,
      database: { status: { state: 'ready', lastErrorCode: null }, ping: async () => {}, query: async () => Promise.reject(new Error(`boom ${h.env.DATABASE_URL} with password ${canaries.DB_PASSWORD}`)) },
      redis: h.redis,
      logger: createLogger({
        level: 'debug',
        destination: failing.stream,
        secretValues: () => h.engine.catalog.entries.flatMap((e) => h.engine.accepted(e.name as keyof WhatsappSaasSpec)),
      }),
    });
    const crashed = await broken.inject({ method: 'GET', url: '/admin/salons', headers: { 'x-admin-token': canaries.ROTATED_ADMIN } });
    await broken.close();
    outputs.push(crashed.body);
    expect(crashed.statusCode).toBe(500);

    // A third-party message quoting a connection string is scrubbed before it is logged.
    expect(failing.text()).toContain('boom [Redacted] with password [Redacted]');
    const everything = [...outputs, h.logs.text(), failing.text()].join('\n');
    expect(h.logs.lines().length).toBeGreaterThan(50);
    for (const [name, value] of Object.entries(canaries)) {
      expect(everything.includes(value), `${name} leaked`).toBe(false);
    }
  });
});
