import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLOCK_CHANNEL } from '../../src/admin-lockout/unlock.js';
import { run } from '../../src/cli/run.js';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { cliDeps } from '../cli/support.js';
import { freePort } from './support/free-port.js';
import { createPostgresCluster, throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/redis-server.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';
import { waitFor } from './support/wait-for.js';

const REQUIRED = ['ADMIN_TOKEN', 'META_VERIFY_TOKEN', 'META_APP_SECRET', 'DATABASE_URL', 'REDIS_URL', 'OPENAI_API_KEY'];

let dir: string;
let db: ThrowawayDatabase;
// Redis of its own: throttle counters and refresh notices from other tests never reach these processes.
let redis: ThrowawayRedis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svc-main-'));
  db = await throwawayDatabase('svc_main', { create: false });
  redis = await startThrowawayRedis();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
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

describe('the service entry', () => {
  it('refuses to start without required secrets, naming every one in one message and no value', async () => {
    const envFile = join(dir, 'empty.env');
    await writeFile(envFile, 'OPENAI_MODEL=gpt-4o\n', { mode: 0o600 });
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile, META_APP_SECRET: 'planted-app-secret-value-0123456789ab' } });

    const code = await svc.exited;

    expect(code).not.toBe(0);
    const lines = svc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    for (const name of REQUIRED.filter((n) => n !== 'META_APP_SECRET')) expect(lines[0]).toContain(name);
    expect(lines[0]).not.toContain('META_APP_SECRET');
    expect(svc.stdout() + svc.stderr()).not.toContain('planted-app-secret-value');
  });

  it('names an invalid required secret without echoing it', async () => {
    const envFile = join(dir, 'invalid.env');
    const secrets = testSecrets(db.url, redis.url);
    await writeFile(envFile, Object.entries({ ...secrets, DATABASE_URL: 'mysql://root:hunter2-planted@db/x' }).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile } });

    expect(await svc.exited).not.toBe(0);
    expect(svc.stderr()).toMatch(/DATABASE_URL \(invalid: wrong scheme/);
    expect(svc.stdout() + svc.stderr()).not.toContain('hunter2-planted');
  });

  it.each([
    ['ADMIN_TOKEN', 'planted7', 'shorter than 32 characters'],
    ['ADMIN_TOKEN', 'w'.repeat(40), 'fewer than 5 different characters'],
    ['META_VERIFY_TOKEN', 'weak-planted', 'shorter than 16 characters'],
    ['META_APP_SECRET', 'weak-planted-app-secret', 'shorter than 32 characters'],
  ])('refuses a weak %s at start, naming the secret and the rule, never the value', async (name, value, rule) => {
    const envFile = join(dir, `weak-${name}.env`);
    const secrets = { ...testSecrets(db.url, redis.url), [name]: value };
    await writeFile(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile } });

    expect(await refusal(svc)).toBe(1);
    expect(svc.stderr()).toContain(`${name} (invalid: ${rule})`);
    expect(svc.stdout() + svc.stderr()).not.toContain(value);
  });

  it('refuses TRUST_PROXY=true at start, saying what to set instead', async () => {
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: join(dir, 'none.env'), TRUST_PROXY: 'true' } });

    expect(await refusal(svc)).toBe(1);
    expect(svc.stderr().trim()).toMatch(/^Invalid setting TRUST_PROXY: .*set 1 behind one load balancer such as an ALB, or the proxies' addresses or CIDRs/);
  });

  it.each(['0.0.0.0/0', '::/0'])('refuses TRUST_PROXY=%s at start by name, not with a bare TypeError', async (value) => {
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: join(dir, 'none.env'), TRUST_PROXY: value } });

    expect(await refusal(svc)).toBe(1);
    expect(svc.stderr().trim()).toMatch(/^Invalid setting TRUST_PROXY: .*trusts every address/);
  });

  it('exits non-zero, naming the setting, when a setting is invalid', async () => {
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: join(dir, 'none.env'), USE_AWS_SECRETS: 'maybe' } });

    expect(await svc.exited).not.toBe(0);
    expect(svc.stderr().trim()).toBe('Invalid setting USE_AWS_SECRETS: expected true or false');
  });

  it('boots the README way (npm run dev): creates .env, creates the database, serves /healthz, prints no value', async () => {
    const work = await mkdtemp(join(dir, 'dev-'));
    const envFile = join(work, '.env');
    const port = await freePort();
    // The real environment wins over .env: point the service at this test's database and Redis.
    const svc = spawnService({ port, viaNpm: true, env: { ENV_FILE: envFile, DATABASE_URL: db.url, REDIS_URL: redis.url } });
    try {
      const health = await svc.waitForHealth();

      expect(health).toMatchObject({ status: 'ok', services: { secrets: { status: 'healthy', source: 'env' }, database: { status: 'up' }, redis: { status: 'up' } } });
      expect((await stat(envFile)).mode & 0o777).toBe(0o600);
      expect(svc.stderr()).toContain(`Created ${envFile} (mode 0600)`);
      const values = parse(await readFile(envFile));
      const token = values.ADMIN_TOKEN!;
      const salons = await fetch(`${svc.url}/admin/salons`, { headers: { 'x-admin-token': token } });
      expect(salons.status).toBe(200);
      for (const name of ['ADMIN_TOKEN', 'META_VERIFY_TOKEN']) {
        expect(svc.stdout() + svc.stderr()).not.toContain(values[name]!);
      }
    } finally {
      await svc.stop();
    }
  });

  it('obeys secrets unlock: a lockout kept in memory while Redis was down ends, and the log says who unlocked it', async () => {
    const secrets = testSecrets(db.url, redis.url);
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: join(dir, 'none.env'), ...secrets } });
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 0, lazyConnect: true });
    probe.on('error', () => {});
    const admin = async (token: string) => (await fetch(`${svc.url}/admin/secrets/health`, { headers: { 'x-admin-token': token } })).status;
    try {
      await svc.waitForHealth((b) => b.services.redis?.status === 'up');
      await redis.stop();
      for (let i = 0; i < 10; i++) await admin(`wrong-guess-${i}`);
      const lockedInMemory = await admin(secrets.ADMIN_TOKEN!);
      await redis.start();
      await probe.connect();
      // The service's subscriber is back (ioredis resubscribes after its reconnect backoff).
      for (let i = 0; Number(((await probe.call('PUBSUB', 'NUMSUB', UNLOCK_CHANNEL)) as unknown[])[1]) < 1; i++) {
        if (i > 2_000) throw new Error('the service never resubscribed to unlock notices');
        await new Promise((r) => setTimeout(r, 10));
      }
      const cli = await cliDeps({ url: 'http://127.0.0.1:9' } as LocalSecretsManager, { env: { USER: 'ops-bob' } });
      const code = await run(['unlock', '127.0.0.1', '--redis-url', redis.url], cli.deps);
      for (let i = 0; !svc.stdout().includes('"admin.unlocked"'); i++) {
        if (i > 2_000) throw new Error('no admin.unlocked line');
        await new Promise((r) => setTimeout(r, 10));
      }
      await redis.stop(); // the instance decides from memory again: it must have forgotten the lockout
      const afterUnlock = await admin(secrets.ADMIN_TOKEN!);

      expect(lockedInMemory).toBe(429);
      expect(code).toBe(0);
      expect(afterUnlock).toBe(200);
      const line = svc.stdout().split('\n').find((l) => l.includes('"admin.unlocked"'))!;
      expect(JSON.parse(line)).toMatchObject({ clientAddress: '127.0.0.1', by: expect.stringMatching(/^ops-bob@/), heldInMemory: true });
    } finally {
      probe.disconnect();
      await svc.stop();
      if (redis.pid === undefined) await redis.start();
    }
  });

  it('stops on SIGTERM: finishes the request in flight, closes its clients and exits 0', async () => {
    const envFile = join(dir, 'full.env');
    await writeFile(envFile, Object.entries(testSecrets(db.url, redis.url)).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile } });
    await svc.waitForHealth();
    const body = Buffer.from('{"object":"page","entry":[{"id":"in-flight"}]}');
    // Half a body on the wire when SIGTERM lands: the request is in flight, not idle. The server's
    // "100 Continue" says it has taken the request; its service.shutdown line, that SIGTERM landed.
    const req = request(`${svc.url}/webhook`, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'x-hub-signature-256': signWebhookBody(body, 'canary-app-secret-9b1d3f5a7c2e4f6a8b'),
        expect: '100-continue',
      },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.flushHeaders();
    await once(req, 'continue');
    req.write(body.subarray(0, 10));

    const stopped = svc.stop();
    await waitFor(() => svc.stdout().includes('"event":"service.shutdown"'));
    req.end(body.subarray(10));

    expect(await answered).toBe(200);
    expect(await stopped).toBe(0);
    const events = svc.stdout().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { event?: string }).event);
    expect(events).toContain('service.shutdown');
    expect(events).toContain('service.stopped');
    await expect(fetch(`${svc.url}/healthz`)).rejects.toThrow();
  });

  it('starts with PostgreSQL down, says so, and serves once it comes up', async () => {
    const cluster = await createPostgresCluster();
    const envFile = join(dir, 'pgdown.env');
    await writeFile(envFile, Object.entries(testSecrets(`${cluster.serverUrl}/whatsapp_saas`, redis.url)).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile } });
    try {
      // Redis may still be connecting in the first probes; wait for the state this test is about.
      const degraded = await svc.waitForHealth((b) => b.status === 'degraded' && b.services.redis?.status === 'up');
      expect(degraded).toMatchObject({ services: { database: { status: 'down' }, redis: { status: 'up' } } });
      const refused = await fetch(`${svc.url}/admin/salons`, { headers: { 'x-admin-token': 'canary-admin-token-7f3a9c1e5b8d2f4a6c' } });
      expect(refused.status).toBe(503);

      await cluster.start();

      await svc.waitForHealth((b) => b.status === 'ok', 15_000);
      const salons = await fetch(`${svc.url}/admin/salons`, { headers: { 'x-admin-token': 'canary-admin-token-7f3a9c1e5b8d2f4a6c' } });
      expect(salons.status).toBe(200);
    } finally {
      await svc.stop();
      await cluster.destroy();
    }
  }, 60_000);
});
