import { copyFile, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../service/support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { REPO } from '../service/support/service-process.js';
import { testSecrets } from '../service/support/service-harness.js';
import { waitFor } from '../service/support/wait-for.js';
import { healthz, listening, runScript, startScript } from './support/npm-script.js';

/**
 * `npm run build` then `npm start`, through npm, in a scratch copy of the project (package.json
 * and tsconfigs copied; src, migrations and node_modules linked), so the build never rewrites the
 * dist/ other tests read.
 */
let app: string;
let database: ThrowawayDatabase;

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'smoke-build-'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', '.env.example']) await copyFile(join(REPO, file), join(app, file));
  for (const dir of ['src', 'migrations', 'node_modules']) await symlink(join(REPO, dir), join(app, dir));
  database = await throwawayDatabase('smoke_start', { create: false });
});
afterAll(async () => {
  await database.drop();
  await rm(app, { recursive: true, force: true });
});

describe('npm run build, then npm start', () => {
  it('builds the service, the CLI and the rotation Lambda bundle, and the build serves a healthy /healthz', async () => {
    const build = await runScript('build', [], { cwd: app, timeoutMs: 120_000 });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(build.stdout + build.stderr).toBe('');
    for (const file of ['dist/service/main.js', 'dist/cli/main.js', 'dist/rotation-lambda/index.mjs']) expect((await stat(join(app, file))).isFile(), file).toBe(true);

    const port = await freePort();
    const envFile = join(app, '.env');
    await writeFile(envFile, Object.entries(testSecrets(database.url, SHARED_REDIS_URL)).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const start = startScript('start', [], { cwd: app, env: { PORT: String(port) } });
    try {
      await waitFor(async () => (await healthz(`http://127.0.0.1:${port}`))?.status === 'ok', 60_000);
      expect((await healthz(`http://127.0.0.1:${port}`))?.services).toMatchObject({ secrets: { status: 'healthy', source: 'env' }, database: { status: 'up' }, redis: { status: 'up' } });
    } finally {
      await start.stop();
    }
    expect(await listening(port)).toBe(false);
    expect(start.output()).not.toContain('canary-');
  }, 240_000);
});
