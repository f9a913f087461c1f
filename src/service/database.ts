import type { Pool, PoolConfig, QueryResult, QueryResultRow } from 'pg';
import type { Clock, Logger, TimerHandle } from '../engine/index.js';
import { silentLogger, systemClock } from '../engine/index.js';
import { ensureDatabase } from './ensure-database.js';
import { DatabaseUnavailableError } from './errors.js';
import { runMigrations } from './migrate.js';

/**
 * Makes a pg Pool for a URL. Supplied by the composition root (the service entry, or a test),
 * which alone creates PostgreSQL clients. `maintenance` pools are short-lived (one query).
 */
export type PoolFactory = (url: string, role: 'app' | 'maintenance') => Pool;

/** The pool settings the entry uses: every wait bounded, so a stuck server cannot hold a request. */
export function pgPoolConfig(url: string, role: 'app' | 'maintenance'): PoolConfig {
  return {
    connectionString: url,
    max: role === 'app' ? 10 : 1,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 5_000,
    statement_timeout: 5_000,
    application_name: 'whatsapp-saas-backend',
  };
}

export type DatabaseState = 'starting' | 'ready' | 'closed';

export interface DatabaseOptions {
  readonly url: string;
  readonly createPool: PoolFactory;
  readonly migrationsDir?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Set-up retries: first delay, doubling up to the cap, while PostgreSQL is unreachable. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

/** SQLSTATE classes and driver codes that mean "cannot talk to the server", not "bad query". */
function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return true; // pg's own connection errors carry no code
  if (/^(08|53|57P)/.test(code)) return true;
  return !/^[0-9A-Z]{5}$/.test(code); // ECONNREFUSED, ETIMEDOUT, ...
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (typeof e.message === 'string' && /timeout/i.test(e.message)) return 'ConnectTimeout';
  if (typeof e.message === 'string' && /another migration is already running/i.test(e.message)) return 'MigrationLocked';
  return 'ConnectionError';
}

/** Errors that mean the schema is gone (a fresh server): set-up must run again. */
const SCHEMA_MISSING = new Set(['3D000', '42P01']);

/**
 * PostgreSQL for the service: one pool, set-up (create the database if missing, then migrate) in
 * the background with capped exponential retries, so the service starts and serves health while
 * PostgreSQL is down and becomes ready when it returns. Queries before that fail fast with
 * DatabaseUnavailableError (503 at the edge).
 */
export class Database {
  private pool: Pool;
  private url: string;
  private state: DatabaseState = 'starting';
  private lastErrorCode: string | undefined = 'NotStarted';
  private readonly createPool: PoolFactory;
  private readonly migrationsDir: string | undefined;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private setup: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private readonly readyWaiters = new Set<() => void>();

  constructor(options: DatabaseOptions) {
    this.url = options.url;
    this.createPool = options.createPool;
    this.migrationsDir = options.migrationsDir;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.retryInitialMs = options.retryInitialMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    this.pool = this.newPool(this.url);
  }

  get status(): { readonly state: DatabaseState; readonly lastErrorCode: string | null } {
    return { state: this.state, lastErrorCode: this.state === 'ready' ? null : (this.lastErrorCode ?? null) };
  }

  /** Starts set-up in the background (idempotent). */
  start(): void {
    if (this.state === 'closed' || this.setup !== undefined || this.retryTimer !== undefined) return;
    this.setup = this.runSetup().finally(() => {
      this.setup = undefined;
    });
  }

  /** Resolves once set-up has succeeded (for tests and tools; requests never wait on it). */
  whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.add(resolve));
  }

  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    if (this.state !== 'ready') throw new DatabaseUnavailableError(this.state === 'closed' ? 'Closed' : (this.lastErrorCode ?? 'NotReady'));
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      const code = codeOf(err);
      if (SCHEMA_MISSING.has(code)) {
        this.logger.warn({ event: 'database.schema_missing', code }, 'Database or tables missing; running set-up again');
        this.state = 'starting';
        this.lastErrorCode = code;
        this.start();
        throw new DatabaseUnavailableError(code, { cause: err });
      }
      if (isUnavailable(err)) throw new DatabaseUnavailableError(code, { cause: err });
      throw err;
    }
  }

  /** One round trip; rejects when the server cannot answer. Bounded by the pool's own timeouts. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** DATABASE_URL changed (a rotated password): new connections use the new URL, old ones drain. */
  replaceUrl(url: string): void {
    if (url === this.url || this.state === 'closed') return;
    const old = this.pool;
    this.url = url;
    this.pool = this.newPool(url);
    this.logger.info({ event: 'database.url_changed' }, 'DATABASE_URL changed; new connections use it');
    void old.end().catch(() => {});
    this.failures = 0;
    if (this.state !== 'ready') {
      this.retryTimer?.cancel();
      this.retryTimer = undefined;
      this.start();
    }
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    await this.setup?.catch(() => {});
    await this.pool.end().catch(() => {});
  }

  private newPool(url: string): Pool {
    const pool = this.createPool(url, 'app');
    // An idle client losing its server emits 'error' on the pool; unhandled, it would kill the process.
    pool.on('error', (err) => this.logger.warn({ event: 'database.idle_client_error', code: codeOf(err) }, 'Idle PostgreSQL client failed'));
    return pool;
  }

  /**
   * Set-up once, without retrying: create the database if missing, apply pending migrations.
   * Resolves the migrations applied now. For `npm run migrate`; the service uses start().
   */
  async setUpOnce(): Promise<string[]> {
    const created = await ensureDatabase(this.url, (u, role) => {
      const p = this.createPool(u, role);
      p.on('error', () => {});
      return p;
    });
    if (created) this.logger.info({ event: 'database.created' }, 'Created the database');
    const client = await this.pool.connect();
    try {
      return await runMigrations(client, { ...(this.migrationsDir !== undefined && { dir: this.migrationsDir }), logger: this.logger });
    } finally {
      client.release();
    }
  }

  private async runSetup(): Promise<void> {
    try {
      const applied = await this.setUpOnce();
      if (this.state === 'closed') return;
      this.state = 'ready';
      this.lastErrorCode = undefined;
      this.failures = 0;
      this.logger.info({ event: 'database.ready', migrationsApplied: applied }, 'Database ready');
      for (const resolve of this.readyWaiters) resolve();
      this.readyWaiters.clear();
    } catch (err) {
      if (this.state === 'closed') return;
      this.failures++;
      this.lastErrorCode = codeOf(err);
      const delayMs = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(this.failures - 1, 20));
      // First failure at warn; repeats at debug so a long outage does not flood the log.
      this.logger[this.failures === 1 ? 'warn' : 'debug'](
        { event: 'database.unavailable', code: this.lastErrorCode, retryInMs: delayMs, attempts: this.failures },
        'Database set-up failed; retrying',
      );
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.start();
      }, delayMs);
    }
  }
}
