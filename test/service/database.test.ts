import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database, pgPoolConfig, type ConnectionUrl } from '../../src/service/database.js';
import { DatabaseUnavailableError } from '../../src/service/errors.js';
import { captureLogger } from '../support/capture-logger.js';
import { MIGRATIONS_DIR } from '../../src/service/migrate.js';
import {
  createLoginRole,
  createPostgresCluster,
  serviceSessions,
  setRolePassword,
  throwawayDatabase,
  type PostgresCluster,
  type ThrowawayDatabase,
} from './support/postgres.js';
import { waitFor } from './support/wait-for.js';

/** Every migration in the repository, applied once. */
const MIGRATIONS = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;

const createPool = (url: ConnectionUrl, role: 'app' | 'maintenance') => new pg.Pool({ ...pgPoolConfig(url, role), connectionTimeoutMillis: 1_000 });

function database(url: string): Database {
  return new Database({ url, createPool, retryInitialMs: 50, retryMaxMs: 200 });
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    return rows.map((r) => r.tablename);
  } finally {
    await client.end();
  }
}

describe('Database on the shared server', () => {
  const dropped: ThrowawayDatabase[] = [];

  afterAll(async () => {
    for (const d of dropped) await d.drop();
  });

  it('creates the database when it is missing and applies the migrations', async () => {
    const target = await throwawayDatabase('svc_db_create', { create: false });
    dropped.push(target);
    const db = database(target.url);

    db.start();
    await db.whenReady();

    expect(db.status).toEqual({ state: 'ready', lastErrorCode: null });
    expect(await tables(target.url)).toEqual(['pgmigrations', 'salons', 'webhook_events']);
    await db.close();
  });

  it('applies nothing on a second start', async () => {
    const target = await throwawayDatabase('svc_db_again');
    dropped.push(target);
    const first = database(target.url);
    first.start();
    await first.whenReady();
    await first.close();

    const second = database(target.url);
    second.start();
    await second.whenReady();
    const { rows } = await second.query<{ n: string }>('SELECT count(*) AS n FROM pgmigrations');

    expect(Number(rows[0]!.n)).toBe(MIGRATIONS);
    await second.close();
  });

  it('lets instances starting together migrate once between them', async () => {
    const target = await throwawayDatabase('svc_db_race', { create: false });
    dropped.push(target);
    const instances = [database(target.url), database(target.url), database(target.url)];

    for (const db of instances) db.start();
    await Promise.all(instances.map((db) => db.whenReady()));
    const { rows } = await instances[0]!.query<{ n: string }>('SELECT count(*) AS n FROM pgmigrations');

    expect(Number(rows[0]!.n)).toBe(MIGRATIONS);
    await Promise.all(instances.map((db) => db.close()));
  });

  it('refuses queries at once, as unavailable, before set-up has finished', async () => {
    const db = database('postgresql://postgres@127.0.0.1:1/never');

    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await db.close();
  });

  it('passes query errors that are not about availability through', async () => {
    const target = await throwawayDatabase('svc_db_errors');
    dropped.push(target);
    const db = database(target.url);
    db.start();
    await db.whenReady();

    await expect(db.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
    await db.close();
  });

  it('runs set-up again when its tables disappear', async () => {
    const target = await throwawayDatabase('svc_db_gone');
    dropped.push(target);
    const db = database(target.url);
    db.start();
    await db.whenReady();
    const admin = new pg.Client({ connectionString: target.url });
    await admin.connect();
    await admin.query('DROP TABLE salons, webhook_events, pgmigrations');
    await admin.end();

    await expect(db.query('SELECT * FROM salons')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await db.whenReady();

    expect((await db.query('SELECT count(*) FROM salons')).rowCount).toBe(1);
    await db.close();
  });

  it('moves new connections to a changed DATABASE_URL', async () => {
    const a = await throwawayDatabase('svc_db_url_a');
    const b = await throwawayDatabase('svc_db_url_b');
    dropped.push(a, b);
    let current = a.url;
    const db = new Database({ url: () => current, createPool, retryInitialMs: 50, retryMaxMs: 200 });
    db.start();
    await db.whenReady();

    current = b.url;
    db.urlChanged();
    const { rows } = await db.query<{ name: string }>('SELECT current_database() AS name');

    expect(rows[0]!.name).toBe(b.name);
    await db.close();
  });
});

describe('Database when PostgreSQL is down, then up', () => {
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await createPostgresCluster();
  }, 60_000);

  afterAll(async () => {
    await cluster.destroy();
  });

  it('waits for the server, then creates the database, migrates and serves; and survives a restart', async () => {
    const url = `${cluster.serverUrl}/whatsapp_saas`;
    const db = database(url);

    db.start();
    // The first connection attempt has failed (the code is 'NotStarted' until then).
    await waitFor(() => db.status.lastErrorCode !== 'NotStarted');
    expect(db.status.state).toBe('starting');
    expect(db.status.lastErrorCode).toBe('ECONNREFUSED');
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);

    await cluster.start();
    await db.whenReady();
    expect(await tables(url)).toEqual(['pgmigrations', 'salons', 'webhook_events']);

    await cluster.stop();
    const started = Date.now();
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);

    await cluster.start();
    const { rows } = await db.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]!.one).toBe(1);
    await db.close();
  }, 60_000);
});

describe('Database with password authentication (scram-sha-256)', () => {
  let cluster: PostgresCluster;
  const ROLE = 'svc_app';
  let roleUrl: (password: string) => string;

  beforeAll(async () => {
    cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
    await cluster.start();
    await createLoginRole(cluster.serverUrl, ROLE, 'first-password-0001');
    roleUrl = (password) => `postgresql://${ROLE}:${password}@127.0.0.1:${cluster.port}/${ROLE}`;
  }, 60_000);

  afterAll(async () => {
    await cluster.destroy();
  });

  /** A secret store whose value the Database sees only after it asks for a refresh, like the engine's cache. */
  function staleSecret(initial: string) {
    let stored = initial;
    let cached = initial;
    let refreshes = 0;
    return {
      store: (url: string) => void (stored = url),
      url: () => cached,
      credentials: {
        refresh: async () => {
          refreshes++;
          cached = stored;
        },
      },
      refreshes: () => refreshes,
    };
  }

  function passwordDatabase(secret: ReturnType<typeof staleSecret>, options: { attempts?: number } = {}) {
    return new Database({
      url: secret.url,
      createPool: (url, role) => new pg.Pool({ ...pgPoolConfig(url, role), max: 20 }),
      credentials: secret.credentials,
      authRetry: { attempts: options.attempts ?? 5, initialDelayMs: 20, maxDelayMs: 100, budgetMs: 10_000 },
      retryInitialMs: 50,
      retryMaxMs: 200,
    });
  }

  it('keeps connections already open working when the role password changes', async () => {
    await setRolePassword(cluster.serverUrl, ROLE, 'keep-open-0002');
    const secret = staleSecret(roleUrl('keep-open-0002'));
    const db = passwordDatabase(secret);
    db.start();
    await db.whenReady();

    await setRolePassword(cluster.serverUrl, ROLE, 'changed-elsewhere-0003');
    const { rows } = await db.query<{ one: number }>('SELECT 1 AS one');

    expect(rows[0]!.one).toBe(1);
    expect(db.stats().authFailures).toBe(0);
    await db.close();
  });

  it('recovers from an outside change with a refresh and a retry: no query fails', async () => {
    await setRolePassword(cluster.serverUrl, ROLE, 'before-0004');
    const secret = staleSecret(roleUrl('before-0004'));
    const db = passwordDatabase(secret);
    db.start();
    await db.whenReady();

    await setRolePassword(cluster.serverUrl, ROLE, 'after-0005');
    secret.store(roleUrl('after-0005'));
    // More at once than the pool has open: new connections are needed, and the stale password fails.
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => db.query('SELECT pg_sleep(0.05)')));

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(db.stats().authRetries).toBeGreaterThan(0);
    expect(secret.url()).toBe(roleUrl('after-0005'));
    await db.close();
  });

  it('answers unavailable (503 with Retry-After) with the auth code after bounded attempts', async () => {
    await setRolePassword(cluster.serverUrl, ROLE, 'good-0006');
    const secret = staleSecret(roleUrl('good-0006'));
    const db = passwordDatabase(secret, { attempts: 3 });
    db.start();
    await db.whenReady();

    await setRolePassword(cluster.serverUrl, ROLE, 'never-published-0007');
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => db.query('SELECT pg_sleep(0.05)')));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as DatabaseUnavailableError);

    expect(failed.length).toBeGreaterThan(0);
    for (const err of failed) {
      expect(err).toBeInstanceOf(DatabaseUnavailableError);
      expect(err.dbCode).toBe('28P01');
      expect(err.retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(db.stats().authGaveUp).toBe(failed.length);
    await db.close();
  });

  /** A ready Database (pool of 20) on the role with `password`, whose URL the test changes, and its log. */
  async function followedDatabase(password: string) {
    await setRolePassword(cluster.serverUrl, ROLE, password);
    let current = roleUrl(password);
    const logger = captureLogger();
    const db = new Database({ url: () => current, createPool: (url, role) => new pg.Pool({ ...pgPoolConfig(url, role), max: 20 }), logger });
    db.start();
    await db.whenReady();
    return { db, logger, setUrl: (url: string) => void (current = url) };
  }

  it('moves to a pool with the new credentials once they log in: queries in flight or waiting finish, none fails, no old login stays open', async () => {
    const { db, logger, setUrl } = await followedDatabase('one-0008');
    // Five more than the pool holds: they wait in the old pool and must still be served by it.
    const inFlight = Array.from({ length: 25 }, () => db.query('SELECT pg_sleep(0.3)'));
    await waitFor(async () => (await serviceSessions(cluster.serverUrl)).filter((x) => x.user === ROLE).length >= 20);

    const changedMs = Date.now();
    await setRolePassword(cluster.serverUrl, ROLE, 'two-0009');
    setUrl(roleUrl('two-0009'));
    db.urlChanged();
    await waitFor(() => logger.lines.some((l) => l.obj.event === 'database.pool_replaced'));
    const after = Array.from({ length: 10 }, () => db.query('SELECT pg_sleep(0.05)'));
    const results = await Promise.allSettled([...inFlight, ...after]);

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(db.stats().authFailures).toBe(0);
    // The old connections close as their queries finish; every session left logged in after the change.
    await waitFor(async () => (await serviceSessions(cluster.serverUrl)).every((x) => x.user !== ROLE || x.startedMs >= changedMs - 5));
    await db.close();
  });

  it('keeps the pool while the new credentials do not log in, and serves on with the connections it has', async () => {
    const { db, logger, setUrl } = await followedDatabase('kept-0010');
    await Promise.all(Array.from({ length: 4 }, () => db.query('SELECT pg_sleep(0.05)')));

    setUrl(roleUrl('not-set-yet-0011'));
    db.urlChanged();
    await waitFor(() => logger.lines.some((l) => l.obj.event === 'database.credentials_not_usable_yet'));
    const { rows } = await db.query<{ one: number }>('SELECT 1 AS one');

    expect(rows[0]!.one).toBe(1);
    expect(logger.lines.find((l) => l.obj.event === 'database.credentials_not_usable_yet')!.obj.code).toBe('28P01');
    expect(logger.text()).not.toContain('not-set-yet-0011');
    await db.close();
  });
});

describe('pgPoolConfig deadlines', () => {
  it('gives the server a shorter deadline than the client, so no statement commits after its caller was answered', () => {
    const config = pgPoolConfig('postgresql://app@127.0.0.1/app', 'app');
    expect(config.statement_timeout).toBeGreaterThan(0);
    expect(config.statement_timeout).toBeLessThan(config.query_timeout!);
  });
});
