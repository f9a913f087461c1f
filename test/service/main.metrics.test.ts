import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { refreshChannel } from '../../src/engine/index.js';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { createAll, localClient, useLocalAws } from '../support/local-aws.js';
import { freePort } from './support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { deltas, parseSamples, sample, type Samples } from './support/prometheus-text.js';
import { startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from './support/redis-server.js';
import { testSecrets } from './support/service-harness.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';

/** The counters the issue names: each scenario step must move exactly these, by exactly this much. */
const COUNTERS = [
  'secrets_aws_calls_total',
  'secrets_refreshes_total',
  'secrets_refresh_notices_total',
  'admin_auth_failures_total',
  'admin_throttled_total',
  'webhook_signature_failures_total',
  'webhook_events_total',
];

const PROJECT = 'svc-metrics';
const CATALOG_SIZE = whatsappSaasCatalog({ project: PROJECT }).entries.length;
/** The refresh channel the service under test listens on: AWS mode, this test's project. */
const CHANNEL = refreshChannel(whatsappSaasCatalog({ project: PROJECT }), 'aws');
let db: ThrowawayDatabase;
// A Redis of its own: the refresh channel and the throttle's keys are this test's alone.
let redis: ThrowawayRedis;
let publisher: Redis;
let svc: ServiceProcess;
let metricsUrl: string;
let secrets: Record<string, string>;

const lsm = useLocalAws();
beforeAll(async () => {
  db = await throwawayDatabase('svc_metrics');
  redis = await startThrowawayRedis();
  publisher = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  await whenRedisReady(publisher);
  secrets = testSecrets(db.url, redis.url);
  await createAll(localClient(lsm), whatsappSaasCatalog({ project: PROJECT }), secrets);
  lsm.resetCounts();
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  svc = spawnService({ port: await freePort(), env: { ...awsEnv(), METRICS_PORT: String(metricsPort) } });
  await svc.waitForHealth();
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  publisher?.disconnect();
  await redis?.stop();
  await db?.drop();
});

/** The service's only region here: every Secrets Manager call is counted with it. */
const REGION = 'us-east-1';

function awsEnv(): Record<string, string> {
  return {
    USE_AWS_SECRETS: 'true',
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: lsm.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SECRETS_PROJECT: PROJECT,
    ENV_FILE: '/nonexistent/.env',
  };
}

async function scrape(): Promise<Samples> {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  return parseSamples(await res.text());
}

/** The Secrets Manager calls the local endpoint received, by operation, since `before`. */
function callsSince(before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [operation, n] of Object.entries(lsm.counts() as Record<string, number>)) if (n - (before[operation] ?? 0) > 0) out[operation] = n - (before[operation] ?? 0);
  return out;
}

/** The AWS call samples that the endpoint's own counts say must have moved, every one with `outcome`. */
function awsCallSamples(calls: Readonly<Record<string, number>>, outcome: string): Record<string, number> {
  return Object.fromEntries(Object.entries(calls).map(([operation, n]) => [sample('secrets_aws_calls_total', { operation, outcome, region: REGION }), n]));
}

/**
 * A read of the whole catalog one secret at a time (after BatchGetSecretValue was denied): each
 * stored secret ok, each catalog secret never created (the optional ones) ResourceNotFoundException.
 */
function perSecretReads(calls: Readonly<Record<string, number>>): Record<string, number> {
  expect(calls.GetSecretValue).toBe(CATALOG_SIZE);
  return {
    [sample('secrets_aws_calls_total', { operation: 'GetSecretValue', outcome: 'ok', region: REGION })]: Object.keys(secrets).length,
    [sample('secrets_aws_calls_total', { operation: 'GetSecretValue', outcome: 'ResourceNotFoundException', region: REGION })]: CATALOG_SIZE - Object.keys(secrets).length,
  };
}

/** Runs one scenario step between two scrapes; resolves with how each named counter moved and the endpoint's calls. */
async function step(action: () => Promise<void>, settled: (after: Samples, before: Samples) => boolean = () => true) {
  const before = await scrape();
  const counts = { ...(lsm.counts() as Record<string, number>) };
  await action();
  let after = await scrape();
  // Work the service does after answering (a notice's debounced refresh) is waited for by its own counter.
  while (!settled(after, before)) {
    await new Promise((r) => setTimeout(r, 25));
    after = await scrape();
  }
  return { moved: deltas(before, after, COUNTERS), calls: callsSince(counts) };
}

const adminToken = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { 'x-admin-token': token });
const refreshSecrets = (token = secrets.ADMIN_TOKEN) => fetch(`${svc.url}/admin/refresh-secrets`, { method: 'POST', headers: adminToken(token) });
const postWebhook = (body: string, signature?: string) =>
  fetch(`${svc.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature !== undefined && { 'x-hub-signature-256': signature }) }, body });
const increased = (key: string, by: number) => (after: Samples, before: Samples) => (after.get(key) ?? 0) - (before.get(key) ?? 0) >= by;

describe('GET /metrics after a scripted scenario (AWS mode, real PostgreSQL and Redis, over HTTP)', () => {
  it('serves /metrics on METRICS_PORT only, not on the API port', async () => {
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(404);
    expect((await fetch(metricsUrl)).headers.get('content-type')).toContain('text/plain');
  });

  it('counts start-up: one BatchGetSecretValue and one startup refresh; rotation ages from the catalog schedule', async () => {
    const s = await scrape();

    expect(lsm.counts()).toMatchObject({ BatchGetSecretValue: 1 });
    expect(s.get(sample('secrets_aws_calls_total', { operation: 'BatchGetSecretValue', outcome: 'ok', region: REGION }))).toBe(1);
    expect(s.get(sample('secrets_refreshes_total', { reason: 'startup', outcome: 'ok' }))).toBe(1);
    for (const secret of ['ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL']) {
      expect(s.get(sample('secrets_rotation_overdue', { secret }))).toBe(0);
      expect(s.get(sample('secrets_rotation_age_days', { secret }))).toBeGreaterThanOrEqual(0);
      expect(s.get(sample('secrets_rotation_age_days', { secret }))).toBeLessThan(1);
    }
    // No period in the catalog (META_APP_SECRET: when compromised): no series.
    expect(s.has(sample('secrets_rotation_age_days', { secret: 'META_APP_SECRET' }))).toBe(false);
  });

  it('a refresh: one refresh counted ok, each Secrets Manager call the endpoint saw counted ok', async () => {
    const { moved, calls } = await step(async () => expect((await refreshSecrets()).status).toBe(200));

    expect(calls).toEqual({ BatchGetSecretValue: 1 });
    expect(moved).toEqual({ ...awsCallSamples(calls, 'ok'), [sample('secrets_refreshes_total', { reason: 'forced', outcome: 'ok' })]: 1 });
  });

  it('a failed refresh: counted by its code, and every denied call by operation and code', async () => {
    lsm.setFaults({ denyOperations: ['BatchGetSecretValue', 'GetSecretValue'] });
    try {
      const { moved, calls } = await step(async () => expect((await refreshSecrets()).status).toBe(502));

      // The batch is denied, then each secret is asked for alone (the per-secret fallback).
      expect(calls).toEqual({ BatchGetSecretValue: 1, GetSecretValue: CATALOG_SIZE });
      expect(moved).toEqual({
        ...awsCallSamples(calls, 'AccessDeniedException'),
        [sample('secrets_refreshes_total', { reason: 'forced', outcome: 'AccessDeniedException' })]: 1,
      });
    } finally {
      lsm.clearFaults();
    }
    // Recovered: the next refresh reads per secret (the batch stays off for an hour after a denial), all ok.
    const { moved, calls } = await step(async () => expect((await refreshSecrets()).status).toBe(200));
    expect(Object.keys(calls)).toEqual(['GetSecretValue']);
    expect(moved).toEqual({ ...perSecretReads(calls), [sample('secrets_refreshes_total', { reason: 'forced', outcome: 'ok' })]: 1 });
  });

  it('a junk notice: ignored-malformed, and no refresh nor AWS call', async () => {
    const ignored = sample('secrets_refresh_notices_total', { result: 'ignored-malformed' });

    const { moved, calls } = await step(async () => void (await publisher.publish(CHANNEL, 'rotate everything please')), increased(ignored, 1));

    expect(moved).toEqual({ [ignored]: 1 });
    expect(calls).toEqual({});
  });

  it('two notices from another instance at once: one applied, one coalesced, one refresh', async () => {
    const refreshed = sample('secrets_refreshes_total', { reason: 'notice', outcome: 'ok' });
    const notice = JSON.stringify({ v: 1, origin: 'another-instance', reason: 'test', names: ['ADMIN_TOKEN'], at: new Date().toISOString() });

    // One MULTI: both notices reach the subscriber together, inside one debounce window.
    const { moved, calls } = await step(async () => void (await publisher.multi().publish(CHANNEL, notice).publish(CHANNEL, notice).exec()), increased(refreshed, 1));

    expect(moved).toEqual({
      [sample('secrets_refresh_notices_total', { result: 'applied' })]: 1,
      [sample('secrets_refresh_notices_total', { result: 'coalesced' })]: 1,
      [refreshed]: 1,
      // Only the secret the notices name, one GetSecretValue.
      [sample('secrets_aws_calls_total', { operation: 'GetSecretValue', outcome: 'ok', region: REGION })]: 1,
    });
    expect(calls).toEqual({ GetSecretValue: 1 });
  });

  it('webhook deliveries: a missing and a bad signature rejected by reason, one event stored, its redelivery a duplicate', async () => {
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'metrics-test' }] });

    const { moved } = await step(async () => {
      expect((await postWebhook(body)).status).toBe(401);
      expect((await postWebhook(body, signWebhookBody(body, 'not-the-app-secret'))).status).toBe(401);
      expect((await postWebhook(body, signWebhookBody(body, secrets.META_APP_SECRET!))).status).toBe(200);
      expect((await postWebhook(body, signWebhookBody(body, secrets.META_APP_SECRET!))).status).toBe(200);
    });

    expect(moved).toEqual({
      [sample('webhook_signature_failures_total', { reason: 'missing' })]: 1,
      [sample('webhook_signature_failures_total', { reason: 'mismatch' })]: 1,
      [sample('webhook_events_total', { result: 'rejected' })]: 2,
      [sample('webhook_events_total', { result: 'stored' })]: 1,
      [sample('webhook_events_total', { result: 'duplicate' })]: 1,
    });
  });

  it('admin refusals: a missing token, ten wrong tokens, then the lockout (a wrong token, then none)', async () => {
    const health = (token?: string) => fetch(`${svc.url}/admin/secrets/health`, { headers: adminToken(token) });

    const { moved } = await step(async () => {
      expect((await health()).status).toBe(401);
      for (let i = 0; i < 10; i++) expect((await health(`wrong-admin-token-${i}`)).status).toBe(401);
      expect((await health('wrong-admin-token-after-lockout')).status).toBe(429);
      expect((await health()).status).toBe(429);
    });

    expect(moved).toEqual({
      [sample('admin_auth_failures_total', { reason: 'missing-token' })]: 1,
      [sample('admin_auth_failures_total', { reason: 'wrong-token' })]: 10,
      [sample('admin_throttled_total')]: 2,
    });
  });

  it('never shows a secret value in /metrics', async () => {
    const text = await (await fetch(metricsUrl)).text();

    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
  });

  // Last: a second service reads the catalog too.
  it('refuses to start when METRICS_PORT is taken, naming the setting', async () => {
    const taken = new URL(metricsUrl).port;
    const second = spawnService({ port: await freePort(), env: { ...awsEnv(), METRICS_PORT: taken } });
    try {
      expect(await second.exited).toBe(1);
    } finally {
      await second.stop();
    }
    expect(second.stderr()).toContain(`Cannot listen on 127.0.0.1:${taken}: EADDRINUSE`);
    expect(second.stderr()).toContain('set METRICS_PORT to a free port');
  });
});
