import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/service/embedded-postgres.js';
import { probeTcp } from '../../src/service/tcp-probe.js';
import { freePort } from './support/free-port.js';

// initdb and a cold start on a machine shared with other test runs: minutes, not seconds, at worst.
const SLOW_MS = 180_000;

let dir: string;
const running: RunningPostgres[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'embedded-pg-'));
  // Run as root, the server runs as the postgres user, which must be able to get through here.
  await chmod(dir, 0o755);
});

afterAll(async () => {
  for (const server of running) await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function query(port: number, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres', () => {
  it('runs a real PostgreSQL 15 at the address, without a password from loopback, and finds its data again after a stop', { timeout: SLOW_MS }, async () => {
    const port = await freePort();
    const dataDir = join(dir, 'kept', 'postgres');

    const first = await startEmbeddedPostgres({ host: '127.0.0.1', port, dataDir });
    running.push(first);
    const version = await query(port, 'SHOW server_version');
    await query(port, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')");
    await first.stop();
    const afterStop = await probeTcp('127.0.0.1', port);
    const second = await startEmbeddedPostgres({ host: '127.0.0.1', port, dataDir });
    running.push(second);
    const rows = await query(port, 'SELECT note FROM kept');

    expect(first).toMatchObject({ created: true, majorVersion: '15' });
    expect(version.rows[0].server_version).toMatch(/^15\./);
    expect(afterStop).toBe('refused');
    expect(second.created).toBe(false);
    expect(rows.rows).toEqual([{ note: 'still here' }]);
    // No Unix socket where these binaries would put one by default: TCP on loopback only.
    expect(await probeTcp('127.0.0.1', port)).toBe('open');
    await expect(access(join('/tmp', `.s.PGSQL.${port}`))).rejects.toThrow();
  });

  it('resolves stop when the server is already gone', { timeout: SLOW_MS }, async () => {
    const port = await freePort();
    const dataDir = join(dir, 'killed', 'postgres');
    const server = await startEmbeddedPostgres({ host: '127.0.0.1', port, dataDir });
    running.push(server);
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pid);

    // Resolving at all is the point (the package would wait forever for an exit that happened).
    // No TCP probe here: once the server is gone its free port may be taken by another test.
    await expect(server.stop()).resolves.toBeUndefined();
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it('refuses a folder that has other content and no PostgreSQL data, leaving it as it was', async () => {
    const dataDir = join(dir, 'busy');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'notes.txt'), 'mine');

    await expect(startEmbeddedPostgres({ host: '127.0.0.1', port: await freePort(), dataDir })).rejects.toThrow(
      `${dataDir} is not empty and holds no PostgreSQL data; remove it to let npm run dev create one`,
    );
    expect(await readdir(dataDir)).toEqual(['notes.txt']);
  });

  it.runIf(process.getuid?.() === 0)('names the folder the postgres user cannot enter when run as root', async () => {
    const closed = join(dir, 'closed');
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);

    await expect(startEmbeddedPostgres({ host: '127.0.0.1', port: await freePort(), dataDir: join(closed, '.dev-data', 'postgres') })).rejects.toThrow(
      `embedded PostgreSQL runs as the system user "postgres", which cannot enter ${closed} (chmod o+x it, or set DATABASE_URL)`,
    );
  });
});

async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('process did not go away');
}
