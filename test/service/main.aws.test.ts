import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAll, localClient, putValue, useLocalAws } from '../support/local-aws.js';
import { freePort } from './support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/redis-server.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';
import { waitFor } from './support/wait-for.js';

let db: ThrowawayDatabase;
// Redis of its own: throttle counters and refresh notices from other tests never reach these processes.
let redis: ThrowawayRedis;
const running: ServiceProcess[] = [];

const awsEnv = (project: string) => ({
  USE_AWS_SECRETS: 'true',
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: lsm.url,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  SECRETS_PROJECT: project,
  // No .env in AWS mode: point ENV_FILE somewhere empty so the repository's own is never read.
  ENV_FILE: '/nonexistent/.env',
});

async function start(project: string): Promise<ServiceProcess> {
  const svc = spawnService({ port: await freePort(), env: awsEnv(project) });
  running.push(svc);
  await svc.waitForHealth();
  return svc;
}

const lsm = useLocalAws();
beforeAll(async () => {
  db = await throwawayDatabase('svc_main_aws');
  redis = await startThrowawayRedis();
});

afterAll(async () => {
  for (const svc of running) await svc.stop();
  await redis.stop();
  await db.drop();
});

/** The exit code of a service expected to refuse to start; one that starts anyway is stopped, and says 'running'. */
async function refusal(svc: ServiceProcess): Promise<number | null | 'running'> {
  try {
    return await Promise.race([svc.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000))]);
  } finally {
    await svc.stop();
  }
}

describe('the service entry in AWS mode (USE_AWS_SECRETS=true)', () => {
  it('loads the catalog from Secrets Manager and says so in /healthz and /admin/secrets/health', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-one' });
    const secrets = testSecrets(db.url, redis.url);
    await createAll(localClient(lsm), catalog, secrets);
    lsm.resetCounts();

    const svc = await start('svc-aws-one');
    const health = (await (await fetch(`${svc.url}/healthz`)).json()) as { services: { secrets: unknown } };
    const admin = (await (await fetch(`${svc.url}/admin/secrets/health`, { headers: { 'x-admin-token': secrets.ADMIN_TOKEN! } })).json()) as {
      secrets: { ADMIN_TOKEN: { versionId: unknown } };
    };

    expect(health.services.secrets).toMatchObject({ status: 'healthy', source: 'aws', secretsLoaded: 9, requiredSecretsOk: true });
    expect(admin).toMatchObject({ source: 'AWS Secrets Manager', region: 'us-east-1', totalSecrets: 11 });
    expect(admin.secrets.ADMIN_TOKEN.versionId).toEqual(expect.any(String));
    expect(lsm.counts().BatchGetSecretValue).toBe(1);
    for (const value of Object.values(secrets)) expect(svc.stdout() + svc.stderr()).not.toContain(value);
  });

  it('refuses to start when required secrets are missing from Secrets Manager, naming each', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-missing' });
    const { ADMIN_TOKEN: _a, OPENAI_API_KEY: _o, ...some } = testSecrets(db.url, redis.url);
    await createAll(localClient(lsm), catalog, some);

    const svc = spawnService({ port: await freePort(), env: awsEnv('svc-aws-missing') });

    expect(await svc.exited).not.toBe(0);
    expect(svc.stderr()).toMatch(/ADMIN_TOKEN \(missing\).*OPENAI_API_KEY \(missing\)/);
    expect(svc.stderr()).toContain('svc-aws-missing/mvp');
  });

  it('refuses a weak admin token from Secrets Manager at start, naming the secret and the rule, never the value', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-weak' });
    await createAll(localClient(lsm), catalog, { ...testSecrets(db.url, redis.url), ADMIN_TOKEN: 'weak-planted-admin' });

    const svc = spawnService({ port: await freePort(), env: awsEnv('svc-aws-weak') });

    expect(await refusal(svc)).toBe(1);
    expect(svc.stderr()).toContain('ADMIN_TOKEN (invalid: shorter than 32 characters)');
    expect(svc.stdout() + svc.stderr()).not.toContain('weak-planted-admin');
  });

  // How fast (within 1 s on 10 instances) is measured by npm run bench:fleet, not here: a timed
  // assertion across two processes fails on a loaded machine.
  it('puts a rotated admin token to use on every instance after one refresh call on one of them', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-rotate' });
    const client = localClient(lsm);
    const secrets = testSecrets(db.url, redis.url);
    await createAll(client, catalog, secrets);
    const [a, b] = await Promise.all([start('svc-aws-rotate'), start('svc-aws-rotate')]);
    const adminHealth = (svc: ServiceProcess, token: string) => fetch(`${svc.url}/admin/secrets/health`, { headers: { 'x-admin-token': token } });

    const newVersion = await putValue(client, catalog.entry('ADMIN_TOKEN')!.awsId, 'rotated-admin-token-value-0123456789');
    const refresh = await fetch(`${a.url}/admin/refresh-secrets`, { method: 'POST', headers: { 'x-admin-token': secrets.ADMIN_TOKEN! } });
    // Poll B with the old token (accepted throughout the grace window) so polling is no failed
    // attempt. B's own refresh is an hour away: only A's notice can bring the new version.
    const versionOnB = async () => ((await (await adminHealth(b, secrets.ADMIN_TOKEN!)).json()) as { secrets: { ADMIN_TOKEN: { versionId: string } } }).secrets.ADMIN_TOKEN.versionId;
    await waitFor(async () => (await versionOnB()) === newVersion);
    const onB = (await adminHealth(b, 'rotated-admin-token-value-0123456789')).status;

    expect(refresh.status).toBe(200);
    expect(await refresh.json()).toMatchObject({ success: true, changed: ['ADMIN_TOKEN'], notifiedOtherInstances: true });
    expect(onB).toBe(200);
    // Graceful rotation: the previous token stays accepted on both during its grace window.
    expect((await adminHealth(a, secrets.ADMIN_TOKEN!)).status).toBe(200);
    expect((await adminHealth(b, secrets.ADMIN_TOKEN!)).status).toBe(200);
    expect(a.stdout() + b.stdout()).not.toContain('rotated-admin-token-value-0123456789');
  });

  it('keeps serving on cached secrets while Secrets Manager is down, and reports degraded', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-outage' });
    const secrets = testSecrets(db.url, redis.url);
    await createAll(localClient(lsm), catalog, secrets);
    const svc = await start('svc-aws-outage');

    lsm.setFaults({ outage: true });
    try {
      const refresh = await fetch(`${svc.url}/admin/refresh-secrets`, { method: 'POST', headers: { 'x-admin-token': secrets.ADMIN_TOKEN! } });
      const health = await (await fetch(`${svc.url}/healthz`)).json();
      const salons = await fetch(`${svc.url}/admin/salons`, { headers: { 'x-admin-token': secrets.ADMIN_TOKEN! } });

      expect(refresh.status).toBe(502);
      expect(await refresh.json()).toMatchObject({ success: false, sourceCode: 'InternalServiceError', servingCachedValues: true });
      expect(health).toMatchObject({ status: 'degraded', services: { secrets: { status: 'degraded', requiredSecretsOk: true } } });
      expect(salons.status).toBe(200);
    } finally {
      lsm.clearFaults();
    }
  });
});

describe('the service entry against a throttled Secrets Manager at start-up', () => {
  it('keeps retrying and starts once the throttling stops', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-throttled' });
    await createAll(localClient(lsm), catalog, testSecrets(db.url, redis.url));
    lsm.setFaults({ throttle: true });
    try {
      const svc = spawnService({ port: await freePort(), env: awsEnv('svc-aws-throttled') });
      running.push(svc);
      // Other instances of this file keep calling the endpoint: watch this one's own log.
      await waitUntil(() => svc.stdout().split('secrets.startup_retry').length > 2);
      lsm.clearFaults();
      await svc.waitForHealth();

      expect(svc.stdout()).toContain('"code":"ThrottlingException"');
    } finally {
      lsm.clearFaults();
    }
  });

  it('exits after SECRETS_STARTUP_TIMEOUT_MS with the code when the throttling goes on', async () => {
    const catalog = whatsappSaasCatalog({ project: 'svc-aws-throttled-out' });
    await createAll(localClient(lsm), catalog, testSecrets(db.url, redis.url));
    lsm.setFaults({ throttle: true });
    try {
      const svc = spawnService({ port: await freePort(), env: { ...awsEnv('svc-aws-throttled-out'), SECRETS_STARTUP_TIMEOUT_MS: '6000' } });

      expect(await svc.exited).toBe(1);
      expect(svc.stderr()).toContain('ThrottlingException');
    } finally {
      lsm.clearFaults();
    }
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
