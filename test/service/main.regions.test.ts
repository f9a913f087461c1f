import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { createAll, localClient, replicateAll } from '../support/local-aws.js';
import { freePort } from './support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/redis-server.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';

const PRIMARY = 'us-east-1';
const REPLICA = 'us-west-2';

let lsm: LocalSecretsManager;
let db: ThrowawayDatabase;
let redis: ThrowawayRedis;
let secrets: ReturnType<typeof testSecrets>;
const running: ServiceProcess[] = [];

const awsEnv = (project: string) => ({
  USE_AWS_SECRETS: 'true',
  AWS_REGION: PRIMARY,
  SECRETS_REPLICA_REGIONS: REPLICA,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: lsm.url,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  SECRETS_PROJECT: project,
  ENV_FILE: '/nonexistent/.env',
});

interface Health {
  status: string;
  services: { secrets: { status: string; region: string | null; regionSince: string | null; degraded: { code: string; region: string } | null } };
}

async function start(project: string): Promise<ServiceProcess> {
  const svc = spawnService({ port: await freePort(), env: awsEnv(project) });
  running.push(svc);
  // Served by a replica, the secrets are degraded: that is the health this test waits for.
  await svc.waitForHealth((b) => b.status === 'ok' || b.status === 'degraded', 40_000);
  return svc;
}

async function health(svc: ServiceProcess): Promise<Health> {
  return (await (await fetch(`${svc.url}/healthz`)).json()) as Health;
}

beforeAll(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
  db = await throwawayDatabase('svc_main_regions');
  redis = await startThrowawayRedis();
  secrets = testSecrets(db.url, redis.url);
  for (const project of ['svc-region-outage', 'svc-region-hang']) {
    const catalog = whatsappSaasCatalog({ project });
    await createAll(localClient(lsm), catalog, secrets);
    await replicateAll(
      localClient(lsm),
      { ...catalog, entries: catalog.entries.filter((e) => secrets[e.name] !== undefined) },
      [REPLICA],
    );
  }
});

afterEach(() => {
  lsm.clearFaults();
});

afterAll(async () => {
  for (const svc of running) await svc.stop();
  await lsm.close();
  await redis.stop();
  await db.drop();
});

describe('the service with SECRETS_REPLICA_REGIONS', () => {
  it('comes up from the replica while the primary is in outage, says so, and goes back to the primary once it returns', async () => {
    lsm.setFaults({ outage: true }, PRIMARY);

    const svc = await start('svc-region-outage');
    const during = await health(svc);
    const admin = (await (await fetch(`${svc.url}/admin/secrets/health`, { headers: { 'x-admin-token': secrets.ADMIN_TOKEN! } })).json()) as Record<string, unknown>;
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    lsm.clearFaults(PRIMARY);
    // The next attempt (at the backoff pace, 10-20 s) tries the primary first.
    await svc.waitForHealth((b) => b.status === 'ok', 40_000);
    const after = await health(svc);

    expect(during.services.secrets).toMatchObject({ status: 'degraded', region: REPLICA, degraded: { code: 'SERVED_BY_REPLICA', region: REPLICA } });
    expect(during.services.secrets.regionSince).toEqual(expect.any(String));
    expect(admin).toMatchObject({ region: REPLICA, primaryRegion: PRIMARY, degraded: { code: 'SERVED_BY_REPLICA' } });
    expect(metrics).toContain(`secrets_served_region{region="${REPLICA}"} 1`);
    expect(metrics).toContain(`secrets_served_region{region="${PRIMARY}"} 0`);
    expect(metrics).toMatch(new RegExp(`secrets_aws_calls_total\\{operation="BatchGetSecretValue",outcome="ok",region="${REPLICA}"\\} 1`));
    expect(after.services.secrets).toMatchObject({ status: 'healthy', region: PRIMARY, degraded: null });
    expect(svc.stdout()).toContain('"event":"secrets.region_failover"');
    expect(svc.stdout()).toContain('"event":"secrets.region_restored"');
    for (const value of Object.values(secrets)) if (value !== undefined) expect(svc.stdout() + svc.stderr()).not.toContain(value);
  });

  it('comes up from the replica while the primary hangs', async () => {
    lsm.setFaults({ hang: true }, PRIMARY);

    const svc = await start('svc-region-hang');
    const during = await health(svc);

    expect(during.services.secrets).toMatchObject({ status: 'degraded', region: REPLICA, degraded: { code: 'SERVED_BY_REPLICA' } });
    await svc.stop();
  });
});
