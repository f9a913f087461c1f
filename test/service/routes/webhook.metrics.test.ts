import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../../src/service/webhook-signature.js';
import { freePort } from '../support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../support/postgres.js';
import { deltas, parseSamples, sample } from '../support/prometheus-text.js';
import { SHARED_REDIS_URL } from '../support/redis-server.js';
import { startHarness, testSecrets, type Harness } from '../support/service-harness.js';

let db: ThrowawayDatabase;
let h: Harness;

beforeAll(async () => {
  db = await throwawayDatabase('svc_webhook_metrics');
  h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL), options: { webhookBodyLimitBytes: 1024 } });
});

afterAll(async () => {
  await h.close();
  await db.drop();
});

const WEBHOOK_COUNTERS = ['webhook_events_total', 'webhook_signature_failures_total'];

async function counted(app: Harness['app'], action: () => Promise<void>): Promise<Record<string, number>> {
  const scrape = async () => parseSamples((await app.inject({ method: 'GET', url: '/metrics' })).body);
  const before = await scrape();
  await action();
  return deltas(before, await scrape(), WEBHOOK_COUNTERS);
}

const post = (app: Harness['app'], body: string | Buffer, signature?: string) =>
  app.inject({ method: 'POST', url: '/webhook', payload: body, headers: { 'content-type': 'application/json', ...(signature !== undefined && { 'x-hub-signature-256': signature }) } });

describe('POST /webhook metrics', () => {
  it('counts a signed body that is not a JSON object, or too large, as rejected with no signature failure', async () => {
    const big = Buffer.alloc(2048, 0x20);

    const moved = await counted(h.app, async () => {
      expect((await post(h.app, 'object=page', signWebhookBody('object=page', h.env.META_APP_SECRET!))).statusCode).toBe(400);
      expect((await post(h.app, big, signWebhookBody(big, h.env.META_APP_SECRET!))).statusCode).toBe(413);
    });

    expect(moved).toEqual({ [sample('webhook_events_total', { result: 'rejected' })]: 2 });
  });

  it('counts a malformed signature header by reason', async () => {
    const moved = await counted(h.app, async () => {
      expect((await post(h.app, '{}', 'sha1=abc')).statusCode).toBe(401);
    });

    expect(moved).toEqual({
      [sample('webhook_signature_failures_total', { reason: 'malformed' })]: 1,
      [sample('webhook_events_total', { result: 'rejected' })]: 1,
    });
  });

  it('counts an event the database could not store as rejected, not stored', async () => {
    const down = await startHarness({ env: testSecrets(`postgresql://postgres@127.0.0.1:${await freePort()}/x`, SHARED_REDIS_URL), waitForDatabase: false });
    try {
      const body = '{"object":"page"}';
      const moved = await counted(down.app, async () => {
        expect((await post(down.app, body, signWebhookBody(body, down.env.META_APP_SECRET!))).statusCode).toBe(503);
      });

      expect(moved).toEqual({ [sample('webhook_events_total', { result: 'rejected' })]: 1 });
    } finally {
      await down.close();
    }
  });

  it('does not count GET /webhook handshakes as deliveries', async () => {
    const moved = await counted(h.app, async () => {
      await h.app.inject({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1' });
    });

    expect(moved).toEqual({});
  });
});
