import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** The machine's PostgreSQL 15: 127.0.0.1:5432, trust auth, user postgres. */
export const SHARED_SERVER = 'postgresql://postgres@127.0.0.1:5432';

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface ThrowawayDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * A uniquely named database on the shared server, dropped (connections and all) by `drop()`.
 * With `create: false` only the name is reserved: for tests of "create it if missing".
 */
export async function throwawayDatabase(prefix: string, options: { create?: boolean; serverUrl?: string } = {}): Promise<ThrowawayDatabase> {
  const { create = true, serverUrl = SHARED_SERVER } = options;
  const name = uniqueDatabaseName(prefix);
  if (create) await adminQuery(serverUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return {
    name,
    url: `${serverUrl}/${name}`,
    drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  };
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresCluster {
  readonly port: number;
  readonly serverUrl: string;
  start(): Promise<void>;
  /** Immediate shutdown: what a crash or a network cut looks like to clients. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server of its own (initdb in a temp dir, on a free port), run as the
 * postgres user because tests run as root and PostgreSQL refuses root. Not started yet.
 */
export async function createPostgresCluster(): Promise<PostgresCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'svc-pg-'));
  const { uid, gid } = await idsOf('postgres');
  await chown(dir, uid, gid);
  const data = join(dir, 'data');
  const asPostgres = (bin: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], { cwd: dir });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  let running = false;
  const cluster: PostgresCluster = {
    port,
    serverUrl: `postgresql://postgres@127.0.0.1:${port}`,
    async start() {
      await asPostgres('pg_ctl', [
        '-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'),
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
        'start',
      ]);
      running = true;
    },
    async stop() {
      if (!running) return;
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      await cluster.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const [{ stdout: u }, { stdout: g }] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(u.trim()), gid: Number(g.trim()) };
}
