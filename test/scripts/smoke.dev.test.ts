import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../service/support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { waitFor } from '../service/support/wait-for.js';
import { healthz, listening, startScript } from './support/npm-script.js';

/**
 * `npm run dev` through npm: creates the .env it is pointed at (ENV_FILE), comes up healthy with
 * the test's PostgreSQL and Redis (given in the environment: explicit, so nothing is embedded),
 * and stops on Ctrl-C.
 */
let dir: string;
let database: ThrowawayDatabase;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smoke-dev-'));
  database = await throwawayDatabase('smoke_dev', { create: false });
});
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run dev', () => {
  it('writes .env, answers a healthy /healthz, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const envFile = join(dir, '.env');
    const run = startScript('dev', [], { env: { ENV_FILE: envFile, PORT: String(port), DATABASE_URL: database.url, REDIS_URL: SHARED_REDIS_URL } });
    try {
      await waitFor(async () => (await healthz(`http://127.0.0.1:${port}`))?.status === 'ok', 90_000);
      const body = await healthz(`http://127.0.0.1:${port}`);
      expect(body?.services).toMatchObject({ secrets: { status: 'healthy', source: 'env' }, database: { status: 'up' }, redis: { status: 'up' } });
    } finally {
      await run.stop();
    }
    expect(await listening(port)).toBe(false);
    expect(run.output()).toContain(`Created ${envFile} (mode 0600)`);
    const written = await readFile(envFile, 'utf8');
    const adminToken = /^ADMIN_TOKEN=(.+)$/m.exec(written)![1]!;
    expect(run.output()).not.toContain(adminToken);
  }, 150_000);
});
