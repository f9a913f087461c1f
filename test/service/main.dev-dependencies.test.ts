import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'dotenv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { probeTcp } from '../../src/service/tcp-probe.js';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { createAll, localClient, useLocalAws } from '../support/local-aws.js';
import { freePort } from './support/free-port.js';
import { REPO, spawnService, type ServiceProcess } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';

/**
 * `npm run dev` on a machine with nothing but Node, for real: a service process whose working
 * folder (its own temp dir, like a fresh clone) has the `.env` the dev bootstrap writes, with the
 * default DATABASE_URL and REDIS_URL pointed at free ports where nothing listens.
 */

// The first run includes initdb: on a loaded two-core machine that can take a minute.
const FIRST_START_MS = 240_000;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let root: string;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'svc-dev-deps-'));
  // The embedded server runs as the postgres user (we are root in CI): it must get through here.
  await chmod(root, 0o755);
});

afterAll(async () => {
  for (const svc of running) await svc.stop();
  await rm(root, { recursive: true, force: true });
});

interface Ports {
  readonly postgres: number;
  readonly redis: number;
}

const databaseUrl = (port: number) => `postgresql://postgres@127.0.0.1:${port}/whatsapp_saas`;
const redisUrl = (port: number) => `redis://127.0.0.1:${port}`;

/** A working folder whose .env.example (which the bootstrap copies) has the local URLs on `ports`. */
async function workFolder(ports: Ports): Promise<string> {
  const work = await mkdtemp(join(root, 'work-'));
  await chmod(work, 0o755);
  const example = (await readFile(join(REPO, '.env.example'), 'utf8'))
    .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=${databaseUrl(ports.postgres)}`)
    .replace(/^REDIS_URL=.*$/m, `REDIS_URL=${redisUrl(ports.redis)}`);
  await writeFile(join(work, '.env.example'), example);
  return work;
}

/** The service entry as `npm run dev` runs it (`--dev`), or as `npm start` does (no flag), from `work`. */
async function serve(work: string, options: { dev?: boolean; env?: Record<string, string> } = {}): Promise<ServiceProcess> {
  const { dev = true, env = {} } = options;
  const svc = spawnService({
    port: await freePort(),
    cwd: work,
    env,
    nodeArgs: ['--import', TSX, join(REPO, 'src/service/main.ts'), ...(dev ? ['--dev'] : [])],
  });
  running.push(svc);
  return svc;
}

function events(svc: ServiceProcess): { event?: string; msg?: string; created?: boolean }[] {
  return svc
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string; msg?: string });
}

const named = (svc: ServiceProcess, event: string) => events(svc).filter((e) => e.event === event);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Degraded as before: no embedded PostgreSQL, no single-instance mode, no data folder; then stops cleanly. */
async function expectNothingStoodIn(svc: ServiceProcess, work: string): Promise<void> {
  expect(named(svc, 'database.embedded_started')).toEqual([]);
  expect(named(svc, 'redis.single_instance')).toEqual([]);
  expect(await exists(join(work, '.dev-data'))).toBe(false);
  expect(await svc.stop()).toBe(0);
}

async function salonNames(svc: ServiceProcess, token: string): Promise<string[]> {
  const res = await fetch(`${svc.url}/admin/salons`, { headers: { 'x-admin-token': token } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { salons: { name: string }[] }).salons.map((s) => s.name);
}

describe('npm run dev with nothing but Node', () => {
  it('embeds PostgreSQL where the default DATABASE_URL finds none, runs alone without Redis, and finds its data again after a restart', { timeout: FIRST_START_MS + 120_000 }, async () => {
    const ports = { postgres: await freePort(), redis: await freePort() };
    const work = await workFolder(ports);

    const first = await serve(work);
    const health = await first.waitForHealth((b) => b.status === 'ok', FIRST_START_MS);
    const values = parse(await readFile(join(work, '.env')));
    const token = values.ADMIN_TOKEN!;
    const body = Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"dev-1","changes":[]}]}');
    const webhook = await fetch(`${first.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, values.META_APP_SECRET!) },
      body,
    });
    const embedded = new pg.Client({ connectionString: databaseUrl(ports.postgres) });
    await embedded.connect();
    await embedded.query("INSERT INTO salons (name) VALUES ('Kept across restarts')");
    await embedded.end();
    const refresh = await fetch(`${first.url}/admin/refresh-secrets`, { method: 'POST', headers: { 'x-admin-token': token } });

    expect(health).toMatchObject({ services: { database: { status: 'up' }, redis: { status: 'off', code: 'SingleInstance' } } });
    expect(named(first, 'database.embedded_started')).toEqual([
      expect.objectContaining({
        created: true,
        msg: `No PostgreSQL at 127.0.0.1:${ports.postgres}: started an embedded PostgreSQL 15 there, data in .dev-data/postgres (created now)`,
      }),
    ]);
    expect(named(first, 'redis.single_instance')).toHaveLength(1);
    expect(named(first, 'redis.single_instance')[0]!.msg).toContain('refresh push to other instances is off');
    // One line about Redis, not a stream of reconnects.
    for (const noise of ['redis.unavailable', 'throttle.redis_unavailable', 'secrets.refresh_subscribe_failed', 'secrets.refresh_notice_not_published']) {
      expect(named(first, noise), noise).toEqual([]);
    }
    expect(webhook.status).toBe(200);
    expect(refresh.status).toBe(200);
    expect(await refresh.json()).toMatchObject({ success: true, notifiedOtherInstances: false });
    expect(await salonNames(first, token)).toEqual(['Kept across restarts']);
    expect(await exists(join(work, '.dev-data', 'postgres', 'PG_VERSION'))).toBe(true);
    for (const name of ['ADMIN_TOKEN', 'META_VERIFY_TOKEN']) expect(first.stdout() + first.stderr()).not.toContain(values[name]!);

    expect(await first.stop()).toBe(0);
    expect(await probeTcp('127.0.0.1', ports.postgres)).toBe('refused');

    const second = await serve(work);
    await second.waitForHealth((b) => b.status === 'ok', FIRST_START_MS);

    expect(named(second, 'database.embedded_started')).toEqual([expect.objectContaining({ created: false, msg: expect.stringContaining('(kept from the last run)') })]);
    expect(await salonNames(second, token)).toEqual(['Kept across restarts']);
    // The admin throttle still holds with no Redis: counted in this process's memory.
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await fetch(`${second.url}/admin/secrets/health`, { headers: { 'x-admin-token': `wrong-${i}` } })).status);
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(answers[10]).toBe(429);

    expect(await second.stop()).toBe(0);
    expect(await probeTcp('127.0.0.1', ports.postgres)).toBe('refused');
  });

  it('never stands in for a DATABASE_URL or REDIS_URL set in the environment', async () => {
    const ports = { postgres: await freePort(), redis: await freePort() };
    const work = await workFolder(ports);

    const svc = await serve(work, { env: { DATABASE_URL: databaseUrl(ports.postgres), REDIS_URL: redisUrl(ports.redis) } });
    const health = await svc.waitForHealth((b) => b.status === 'degraded' && b.services.redis?.status === 'down');

    expect(health).toMatchObject({ services: { database: { status: 'down' }, redis: { status: 'down' } } });
    await expectNothingStoodIn(svc, work);
  });

  it('never embeds anything in production (npm start: no --dev), whatever the .env says', async () => {
    const ports = { postgres: await freePort(), redis: await freePort() };
    const work = await workFolder(ports);
    const secrets = { ...testSecrets(databaseUrl(ports.postgres), redisUrl(ports.redis)) };
    await writeFile(join(work, '.env'), Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });

    const svc = await serve(work, { dev: false });
    const health = await svc.waitForHealth((b) => b.status === 'degraded' && b.services.redis?.status === 'down');

    expect(health).toMatchObject({ services: { database: { status: 'down' }, redis: { status: 'down' } } });
    await expectNothingStoodIn(svc, work);
  });

  describe('in AWS mode', () => {
    const lsm = useLocalAws();

    it('never embeds anything, even under --dev with default-looking URLs', async () => {
      const ports = { postgres: await freePort(), redis: await freePort() };
      const work = await workFolder(ports);
      await createAll(localClient(lsm), whatsappSaasCatalog({ project: 'svc-dev-aws' }), testSecrets(databaseUrl(ports.postgres), redisUrl(ports.redis)));

      const svc = await serve(work, {
        env: {
          USE_AWS_SECRETS: 'true',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: lsm.url,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          SECRETS_PROJECT: 'svc-dev-aws',
        },
      });
      const health = await svc.waitForHealth((b) => b.status === 'degraded' && b.services.redis?.status === 'down');

      expect(health).toMatchObject({ services: { secrets: { source: 'aws' }, database: { status: 'down' } } });
      await expectNothingStoodIn(svc, work);
    });
  });
});
