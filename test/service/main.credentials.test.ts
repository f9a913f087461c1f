import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { freePort } from './support/free-port.js';
import { adminQuery, createLoginRole, createPostgresCluster, setRolePassword, type PostgresCluster } from './support/postgres.js';
import { aclUserUrl, redisAdminCommand, setAclUser, startThrowawayRedis, type ThrowawayRedis } from './support/redis-server.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';
import { waitFor } from './support/wait-for.js';

/**
 * The entry's wiring of credentials, in a real process: PostgreSQL with scram-sha-256 and Redis
 * with an ACL user, both changed under a running service that is never restarted.
 */
const ADMIN = `redis-admin-${randomBytes(8).toString('hex')}`;
const ROLE = 'svc_entry';
const REDIS_USER = 'svc_entry';
const PASSWORDS = ['pg-a-3001', 'pg-b-3002', 'redis-a-3003', 'redis-b-3004'];

let dir: string;
let cluster: PostgresCluster;
let redis: ThrowawayRedis;
let svc: ServiceProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svc-cred-'));
  cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
  await createLoginRole(cluster.serverUrl, ROLE, PASSWORDS[0]!);
  redis = await startThrowawayRedis({ password: ADMIN });
  await setAclUser(redis, ADMIN, REDIS_USER, { add: [PASSWORDS[2]!] });
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await redis.stop();
  await cluster.destroy();
  await rm(dir, { recursive: true, force: true });
});

const dbUrl = (password: string) => `postgresql://${ROLE}:${password}@127.0.0.1:${cluster.port}/${ROLE}`;

async function writeEnv(path: string, values: Record<string, string>): Promise<void> {
  await writeFile(path, `${Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
}

describe('the service entry with rotating credentials', () => {
  it('applies a changed REDIS_URL without a restart and recovers from a changed database password', async () => {
    const envFile = join(dir, '.env');
    const secrets = testSecrets(dbUrl(PASSWORDS[0]!), aclUserUrl(redis, REDIS_USER, PASSWORDS[2]!));
    await writeEnv(envFile, secrets);
    svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile, LOG_LEVEL: 'info' } });
    await svc.waitForHealth();

    // Redis: the new password is added, the secret switched, instances told; then the old one goes.
    await setAclUser(redis, ADMIN, REDIS_USER, { add: [PASSWORDS[3]!] });
    await writeEnv(envFile, { ...secrets, REDIS_URL: aclUserUrl(redis, REDIS_USER, PASSWORDS[3]!) });
    const refreshed = await fetch(`${svc.url}/admin/refresh-secrets`, { method: 'POST', headers: { 'x-admin-token': secrets.ADMIN_TOKEN! } });
    expect(refreshed.status).toBe(200);
    await waitFor(() => (svc!.stdout().match(/"event":"redis\.credentials_changed"/g) ?? []).length >= 2);
    await setAclUser(redis, ADMIN, REDIS_USER, { remove: [PASSWORDS[2]!] });
    await redisAdminCommand(redis, ADMIN, 'CLIENT', 'KILL', 'USER', REDIS_USER);
    await svc.waitForHealth((b) => b.services.redis?.status === 'up');

    // PostgreSQL: changed at the server and in .env; nobody tells the service.
    await setRolePassword(cluster.serverUrl, ROLE, PASSWORDS[1]!);
    await writeEnv(envFile, { ...secrets, REDIS_URL: aclUserUrl(redis, REDIS_USER, PASSWORDS[3]!), DATABASE_URL: dbUrl(PASSWORDS[1]!) });
    const statuses = await Promise.all(
      Array.from({ length: 15 }, async () => {
        const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: randomUUID() }] });
        const res = await fetch(`${svc!.url}/webhook`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, secrets.META_APP_SECRET!) },
        });
        return res.status;
      }),
    );

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // One refresh asked by the admin route, one by the refused connections (its log line reaches
    // the pipe after the answers that waited for it).
    await waitFor(() => (svc!.stdout().match(/"event":"secrets\.refreshed"/g) ?? []).length >= 2);
    const output = svc.stdout() + svc.stderr();
    for (const password of PASSWORDS) expect(output).not.toContain(password);
    expect(await svc.stop()).toBe(0);
    svc = undefined;
  }, 90_000);
});

describe('npm run migrate with the RDS rotation JSON as DATABASE_URL', () => {
  it('creates the database and migrates it, printing no value', async () => {
    await setRolePassword(cluster.serverUrl, ROLE, PASSWORDS[0]!);
    await adminQueryCreateDb();
    const envFile = join(dir, 'migrate.env');
    const rds = JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: cluster.port, username: ROLE, password: PASSWORDS[0], dbname: `${ROLE}_migrated` });
    await writeEnv(envFile, { ...testSecrets('postgresql://unused@127.0.0.1/x', aclUserUrl(redis, REDIS_USER, PASSWORDS[3]!)), DATABASE_URL: `'${rds}'` });
    const migrate = spawnService({ port: await freePort(), env: { ENV_FILE: envFile }, args: ['--migrate'] });

    expect(await migrate.exited).toBe(0);
    expect(migrate.stdout()).toMatch(/"event":"database\.migrated"/);
    expect(migrate.stdout() + migrate.stderr()).not.toContain(PASSWORDS[0]!);
  }, 60_000);
});

/** The role may create its own databases, as an RDS master user can. */
async function adminQueryCreateDb(): Promise<void> {
  await adminQuery(cluster.serverUrl, `ALTER ROLE ${ROLE} CREATEDB`);
}

