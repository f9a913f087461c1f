import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { throwawayDatabase, type ThrowawayDatabase } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { testSecrets } from '../service/support/service-harness.js';
import { runScript } from './support/npm-script.js';

/** `npm run migrate`: creates the database named in DATABASE_URL, applies the migrations, exits 0. */
let dir: string;
let database: ThrowawayDatabase;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smoke-migrate-'));
  database = await throwawayDatabase('smoke_migrate', { create: false });
});
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run migrate', () => {
  it('creates and migrates the database, logs what it applied, and exits 0', async () => {
    const envFile = join(dir, '.env');
    const secrets = testSecrets(database.url, SHARED_REDIS_URL);
    await writeFile(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });

    const { code, stdout, stderr } = await runScript('migrate', [], { env: { ENV_FILE: envFile }, timeoutMs: 60_000 });

    expect(code, stderr).toBe(0);
    const migrated = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; migrationsApplied?: string[] }).find((l) => l.event === 'database.migrated');
    expect(migrated?.migrationsApplied?.length).toBeGreaterThan(0);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
    for (const value of Object.values(secrets).filter((v) => v.startsWith('canary') || v.startsWith('sk-'))) expect(stdout + stderr).not.toContain(value);
  });
});
