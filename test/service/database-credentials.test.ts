import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAwsSource } from '../../src/engine/index.js';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { createAll, localClient, putValue, useLocalAws } from '../support/local-aws.js';
import { adminQuery, createLoginRole, createPostgresCluster, setRolePassword, type PostgresCluster } from './support/postgres.js';
import { SHARED_REDIS_URL } from './support/redis-server.js';
import { startHarness, testSecrets, type Harness } from './support/service-harness.js';
import { waitFor } from './support/wait-for.js';

/**
 * The service's side of credential rotation, end to end over the wire: PostgreSQL with password
 * authentication, DATABASE_URL from the engine (env mode and the local Secrets Manager), signed
 * webhooks through the app.
 */
let cluster: PostgresCluster;
const ROLE = 'svc_cred';

beforeAll(async () => {
  cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
  await createLoginRole(cluster.serverUrl, ROLE, 'initial-password-1001');
}, 60_000);

afterAll(async () => {
  await cluster.destroy();
});

const roleUrl = (password: string) => `postgresql://${ROLE}:${password}@127.0.0.1:${cluster.port}/${ROLE}`;
const rdsJson = (password: string) =>
  JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: cluster.port, username: ROLE, password, dbname: ROLE });

function postWebhook(h: Harness) {
  const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: randomUUID() }] });
  return h.app.inject({
    method: 'POST',
    url: '/webhook',
    payload: body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, h.env.META_APP_SECRET!) },
  });
}

/** More webhooks at once than the pool has connections open, so new connections are opened. */
async function burst(h: Harness, n: number) {
  return Promise.all(Array.from({ length: n }, () => postWebhook(h)));
}

/**
 * Ends the role's open connections and waits until the app's pool has let them go, so the next
 * query must log in again: on a loaded machine one open connection could otherwise serve a whole
 * burst and the password change would go unnoticed.
 */
async function dropOpenConnections(h: Harness) {
  await adminQuery(cluster.serverUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`);
  await waitFor(() => h.openConnections() === 0);
}

describe('a database authentication failure', () => {
  it('answers POST /webhook with 503 and Retry-After, never 500, when the credentials stay wrong', async () => {
    await setRolePassword(cluster.serverUrl, ROLE, 'known-1002');
    const h = await startHarness({ env: testSecrets(roleUrl('known-1002'), SHARED_REDIS_URL), poolMax: 20 });
    try {
      await setRolePassword(cluster.serverUrl, ROLE, 'unpublished-1003');
      await dropOpenConnections(h);
      const responses = await burst(h, 12);
      const statuses = responses.map((r) => r.statusCode);

      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      const unavailable = responses.filter((r) => r.statusCode === 503);
      expect(unavailable.length).toBeGreaterThan(0);
      for (const r of unavailable) {
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
        expect(r.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
      }
      expect(h.logs.lines().filter((l) => l.event === 'http.unhandled_error')).toEqual([]);
      expect(h.logs.text()).not.toContain('unpublished-1003');
      expect(h.logs.text()).not.toContain('known-1002');
    } finally {
      await h.close();
    }
  }, 60_000);
});

describe('an outside change followed by an authentication failure', () => {

  const lsm = useLocalAws();


  it.each([
    ['a URL', roleUrl],
    ['the RDS rotation JSON', rdsJson],
  ])('recovers with zero failed requests when DATABASE_URL is %s', async (_form, secretValue) => {
    lsm.resetStore();
    await setRolePassword(cluster.serverUrl, ROLE, 'old-1004');
    const catalog = whatsappSaasCatalog();
    const client = localClient(lsm, { maxAttempts: 2 });
    await createAll(client, catalog, testSecrets(secretValue('old-1004'), SHARED_REDIS_URL));
    const h = await startHarness({
      env: testSecrets(secretValue('old-1004'), SHARED_REDIS_URL),
      source: createAwsSource({ client, region: 'us-east-1' }),
      poolMax: 20,
    });
    try {
      expect((await postWebhook(h)).statusCode).toBe(200);

      // Someone changes the role's password and the secret; this instance still holds the old one.
      await setRolePassword(cluster.serverUrl, ROLE, 'new-1005');
      await putValue(client, catalog.entry('DATABASE_URL')!.awsId, secretValue('new-1005'));
      await dropOpenConnections(h);
      const responses = await burst(h, 20);

      expect(responses.map((r) => r.statusCode).filter((s) => s !== 200)).toEqual([]);
      expect(h.database.stats().authRetries).toBeGreaterThan(0);
      expect(h.engine.get('DATABASE_URL')).toContain('new-1005');
      expect(h.logs.text()).not.toContain('new-1005');
    } finally {
      await h.close();
    }
  }, 60_000);
});
