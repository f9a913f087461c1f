import { randomBytes } from 'node:crypto';
import pg from 'pg';
export { createPostgresCluster, type PostgresCluster, type PostgresClusterOptions } from './postgres-cluster.js';
import { suiteServerUrl } from './suite-server-url.js';

/**
 * The suite's own PostgreSQL (trust auth, user postgres, on a free port), started by the global
 * setup (test/support/global-setup.ts) for this run and stopped after it: never the machine's.
 */
export const SHARED_SERVER = suiteServerUrl('TEST_POSTGRES_URL');

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

/** A login role with a password (scram-sha-256 on PostgreSQL 15) that owns a database of its own name. */
export async function createLoginRole(serverUrl: string, name: string, password: string): Promise<void> {
  await adminQuery(serverUrl, `CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
  await adminQuery(serverUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)} OWNER ${pg.escapeIdentifier(name)}`);
}

/** What a password rotation does at the server: sessions already open stay open. */
export async function setRolePassword(serverUrl: string, name: string, password: string): Promise<void> {
  await adminQuery(serverUrl, `ALTER ROLE ${pg.escapeIdentifier(name)} PASSWORD ${pg.escapeLiteral(password)}`);
}

/** One open session of the service's pools (`application_name` whatsapp-saas-backend), as pg_stat_activity shows it. */
export interface ServiceSession {
  /** The role it logged in as (the session user, not a role it acts as). */
  readonly user: string;
  readonly startedMs: number;
}

/** The service's sessions open on a server right now, for "which login is still in use" checks. */
export async function serviceSessions(serverUrl: string): Promise<ServiceSession[]> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query<{ usename: string; started: Date }>(
      "SELECT usename, backend_start AS started FROM pg_stat_activity WHERE application_name = 'whatsapp-saas-backend' AND pid <> pg_backend_pid()",
    );
    return rows.map((r) => ({ user: r.usename, startedMs: r.started.getTime() }));
  } finally {
    await client.end();
  }
}

/** Whether a login with this URL gets in: false when PostgreSQL refuses its password (28P01); any other failure throws. */
export async function postgresLogsIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '28P01') return false;
    throw err;
  }
}
