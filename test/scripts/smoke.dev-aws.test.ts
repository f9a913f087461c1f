import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../service/support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { testSecrets } from '../service/support/service-harness.js';
import { waitFor } from '../service/support/wait-for.js';
import { healthz, listening, startScript } from './support/npm-script.js';

/**
 * `npm run dev:aws` through npm, with the test's PostgreSQL and Redis: the local endpoint seeded
 * from the .env, the service healthy in AWS mode, both stopped on Ctrl-C. (test/scripts/dev-aws.test.ts
 * covers its refusals and clean-up in detail.)
 */
let dir: string;
let database: ThrowawayDatabase;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smoke-dev-aws-'));
  database = await throwawayDatabase('smoke_dev_aws', { create: false });
});
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run dev:aws', () => {
  it('answers a healthy /healthz from AWS mode, and stops the service and the endpoint on Ctrl-C', async () => {
    const [awsPort, port] = [await freePort(), await freePort()];
    const envFile = join(dir, '.env');
    const secrets = testSecrets(database.url, SHARED_REDIS_URL);
    await writeFile(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const run = startScript('dev:aws', [], { env: { ENV_FILE: envFile, PORT: String(port), LOCAL_AWS_PORT: String(awsPort) } });
    try {
      await waitFor(async () => (await healthz(`http://127.0.0.1:${port}`))?.status === 'ok', 120_000);
      const body = await healthz(`http://127.0.0.1:${port}`);
      expect(body?.services).toMatchObject({ secrets: { status: 'healthy', source: 'aws' }, database: { status: 'up' }, redis: { status: 'up' } });
    } finally {
      await run.stop();
    }
    expect(await listening(port)).toBe(false);
    expect(await listening(awsPort)).toBe(false);
    expect(run.output()).toContain(`local Secrets Manager endpoint on http://127.0.0.1:${awsPort}`);
    expect(run.output()).not.toContain('canary-');
  }, 180_000);
});
