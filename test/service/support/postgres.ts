import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

/** One statement as the server's superuser, on its `postgres` database. */
export async function adminQuery(serverUrl: string, sql: string): Promise<void> {
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
  /** The superuser's URL without a database (`.../postgres` appended by adminQuery). */
  readonly serverUrl: string;
  /** With password authentication: the superuser's password. */
  readonly superuserPassword: string | undefined;
  start(): Promise<void>;
  /** Immediate shutdown: what a crash or a network cut looks like to clients. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export interface PostgresClusterOptions {
  /**
   * `scram-sha-256`: every connection, local or TCP, must give a password (PostgreSQL 15's
   * default hashing), as on RDS. The superuser gets a random one. Default `trust`.
   */
  readonly auth?: 'trust' | 'scram-sha-256';
}

/**
 * A throwaway PostgreSQL server of its own (initdb in a temp dir, on a free port), run as the
 * postgres user because tests run as root and PostgreSQL refuses root. Not started yet.
 */
export async function createPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const { auth = 'trust' } = options;
  const dir = await mkdtemp(join(tmpdir(), 'svc-pg-'));
  const { uid, gid } = await idsOf('postgres');
  await chown(dir, uid, gid);
  const data = join(dir, 'data');
  const asPostgres = (bin: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], { cwd: dir });
  const superuserPassword = auth === 'trust' ? undefined : `pg-super-${randomBytes(12).toString('hex')}`;
  const authArgs: string[] = ['-A', auth];
  if (superuserPassword !== undefined) {
    const pwfile = join(dir, 'superuser.pw');
    await writeFile(pwfile, `${superuserPassword}\n`, { mode: 0o600 });
    await chown(pwfile, uid, gid);
    authArgs.push(`--pwfile=${pwfile}`);
  }
  await asPostgres('initdb', ['-D', data, ...authArgs, '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  await rm(join(dir, 'superuser.pw'), { force: true });
  const port = await freePort();
  let running = false;
  const cluster: PostgresCluster = {
    port,
    serverUrl: superuserPassword === undefined ? `postgresql://postgres@127.0.0.1:${port}` : `postgresql://postgres:${superuserPassword}@127.0.0.1:${port}`,
    superuserPassword,
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

/** A login role with a password (scram-sha-256 on PostgreSQL 15) that owns a database of its own name. */
export async function createLoginRole(serverUrl: string, name: string, password: string): Promise<void> {
  await adminQuery(serverUrl, `CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
  await adminQuery(serverUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)} OWNER ${pg.escapeIdentifier(name)}`);
}

/** What a password rotation does at the server: sessions already open stay open. */
export async function setRolePassword(serverUrl: string, name: string, password: string): Promise<void> {
  await adminQuery(serverUrl, `ALTER ROLE ${pg.escapeIdentifier(name)} PASSWORD ${pg.escapeLiteral(password)}`);
}
