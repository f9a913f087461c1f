import pg, { type ClientConfig, type Pool, type PoolConfig, type QueryResult, type QueryResultRow } from 'pg';
import type { Clock, Logger, TimerHandle } from '../engine/index.js';
import { backoffDelayMs, driverErrorCode, silentLogger, systemClock } from '../engine/index.js';
import type { CredentialRefresh } from './credential-refresh.js';
import { ensureDatabase } from './ensure-database.js';
import { DatabaseUnavailableError } from './errors.js';
import { runMigrations } from './migrate.js';
import { PoolLifecycle } from './pool-lifecycle.js';

/**
 * A connection URL, or a function giving the current one (the secrets engine's DATABASE_URL),
 * asked again whenever a connection is opened.
 */
export type ConnectionUrl = string | (() => string);

/**
 * Makes a pg Pool. Supplied by the composition root (the service entry, or a test), which alone
 * creates PostgreSQL clients. `maintenance` pools are short-lived (one query).
 */
export type PoolFactory = (url: ConnectionUrl, role: 'app' | 'maintenance') => Pool;

/**
 * The pool settings the entry uses: every wait bounded, so a stuck server cannot hold a request.
 * With a function for the URL, every new connection takes the credentials current at that moment
 * (node-postgres builds each client from the pool's `Client`): a rotated password applies to new
 * connections at once, and connections already open keep working.
 */
export function pgPoolConfig(url: ConnectionUrl, role: 'app' | 'maintenance'): PoolConfig {
  const base: PoolConfig = {
    max: role === 'app' ? 10 : 1,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    // A backstop for credentials that changed without the pool being replaced (see Database.urlChanged):
    // no connection outlives this, so none keeps an old login for long.
    maxLifetimeSeconds: MAX_CONNECTION_LIFETIME_SECONDS,
    query_timeout: QUERY_TIMEOUT_MS,
    // Shorter than the client's deadline, so the server has ended (or committed) a statement
    // before the client gives up on it: a statement can no longer commit after its caller was
    // answered 503. What still commits in that last second is counted (see WebhookIngest).
    statement_timeout: STATEMENT_TIMEOUT_MS,
    application_name: 'whatsapp-saas-backend',
  };
  if (typeof url === 'string') return { ...base, connectionString: url };
  const current = url;
  class CurrentCredentialsClient extends pg.Client {
    constructor(config?: ClientConfig) {
      // The URL's fields (user, password, host, database, ssl...) override the pool's defaults.
      super({ ...config, connectionString: current() });
    }
  }
  return { ...base, Client: CurrentCredentialsClient as unknown as PoolConfig['Client'] };
}

/** The client's deadline for one query (node-postgres `query_timeout`). */
export const QUERY_TIMEOUT_MS = 5_000;
/** The server's deadline for one statement (PostgreSQL `statement_timeout`): a second less than the client's. */
export const STATEMENT_TIMEOUT_MS = 4_000;

/** How long a pooled connection may live, however busy: bounds the life of a login that was rotated away. */
export const MAX_CONNECTION_LIFETIME_SECONDS = 15 * 60;

/** SQLSTATE 28P01 (invalid_password) and 28000 (invalid_authorization_specification). */
export function isAuthFailure(code: string): boolean {
  return code === '28P01' || code === '28000';
}

export interface AuthRetryOptions {
  /** Tries of one query in all, the first included (AWS's JDBC wrapper makes 5). */
  readonly attempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** However the refreshes go, a query gives up after this long: 503 with Retry-After. */
  readonly budgetMs?: number;
}

/** Counts for benchmarks and health: how often credentials were refused and retried. */
export interface DatabaseStats {
  readonly authFailures: number;
  readonly authRetries: number;
  readonly authGaveUp: number;
  /** Times the pool was replaced for new credentials (see urlChanged). */
  readonly credentialSwitches: number;
}

export type DatabaseState = 'starting' | 'ready' | 'closed';

export interface DatabaseOptions {
  readonly url: ConnectionUrl;
  readonly createPool: PoolFactory;
  /**
   * Asked when PostgreSQL refuses our credentials (28P01/28000): fetch DATABASE_URL again. The
   * query is then retried on a new connection (auth fails before any statement runs, so a retry
   * never repeats one). Without it, such failures still answer 503, after the same retries.
   */
  readonly credentials?: CredentialRefresh;
  readonly authRetry?: AuthRetryOptions;
  readonly migrationsDir?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Set-up retries while PostgreSQL is unreachable: the first nominal delay, doubling up to the cap (jittered). */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** The jitter of every retry delay (the engine's backoff: half to all of the nominal delay). */
  readonly random?: () => number;
}

/** SQLSTATE classes and driver codes that mean "cannot talk to the server", not "bad query". */
function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return true; // pg's own connection errors carry no code
  // 57014: statement_timeout cancelled it (nothing committed): a slow server, not a bad query.
  if (/^(08|53|57P)/.test(code) || code === '57014') return true;
  return !/^[0-9A-Z]{5}$/.test(code); // ECONNREFUSED, ETIMEDOUT, ...
}

/** The driver's code; for pg's own errors, which carry none, what happened, from its message. */
function codeOf(err: unknown): string {
  const code = driverErrorCode(err);
  if (code !== 'UnknownError') return code;
  const message = (err as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && /another migration is already running/i.test(message)) return 'MigrationLocked';
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
  private readonly pools: PoolLifecycle;
  private readonly url: () => string;
  private state: DatabaseState = 'starting';
  private lastErrorCode: string | undefined = 'NotStarted';
  private readonly createPool: PoolFactory;
  private readonly migrationsDir: string | undefined;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly random: () => number;
  private setup: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private readonly readyWaiters = new Set<() => void>();
  private readonly credentials: CredentialRefresh | undefined;
  private readonly authAttempts: number;
  private readonly authInitialDelayMs: number;
  private readonly authMaxDelayMs: number;
  private readonly authBudgetMs: number;
  private counts = { authFailures: 0, authRetries: 0, authGaveUp: 0 };

  constructor(options: DatabaseOptions) {
    const { url } = options;
    this.url = typeof url === 'string' ? () => url : url;
    this.credentials = options.credentials;
    this.authAttempts = Math.max(1, options.authRetry?.attempts ?? 5);
    this.authInitialDelayMs = options.authRetry?.initialDelayMs ?? 100;
    this.authMaxDelayMs = options.authRetry?.maxDelayMs ?? 1_000;
    this.authBudgetMs = options.authRetry?.budgetMs ?? 5_000;
    this.createPool = options.createPool;
    this.migrationsDir = options.migrationsDir;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.retryInitialMs = options.retryInitialMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    this.random = options.random ?? Math.random;
    this.pools = new PoolLifecycle({ url: this.url, createPool: () => this.newPool(), logger: this.logger });
  }

  stats(): DatabaseStats {
    return { ...this.counts, credentialSwitches: this.pools.credentialSwitches };
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

  /**
   * One statement on a pooled connection. With `name`, a prepared statement: each connection
   * parses and plans it once, then only binds values (the text must be the same for that name).
   */
  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[], options?: { readonly name?: string }): Promise<QueryResult<R>> {
    if (this.state !== 'ready') throw new DatabaseUnavailableError(this.state === 'closed' ? 'Closed' : (this.lastErrorCode ?? 'NotReady'));
    const startedMs = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pools.current.query<R>({ text, ...(values !== undefined && { values }), ...(options?.name !== undefined && { name: options.name }) });
      } catch (err) {
        const code = codeOf(err);
        if (isAuthFailure(code)) {
          this.counts.authFailures++;
          const remainingMs = this.authBudgetMs - (this.clock.now() - startedMs);
          if (attempt >= this.authAttempts || remainingMs <= 0 || (this.state as DatabaseState) === 'closed') {
            this.counts.authGaveUp++;
            this.logger.warn({ event: 'database.auth_failed', code, attempts: attempt }, 'PostgreSQL refused our credentials; answering 503');
            throw new DatabaseUnavailableError(code, { cause: err });
          }
          this.counts.authRetries++;
          await this.beforeAuthRetry(attempt, remainingMs);
          continue;
        }
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
  }

  /** One round trip; rejects when the server cannot answer. Bounded by the pool's own timeouts. */
  async ping(): Promise<void> {
    try {
      await this.pools.current.query('SELECT 1');
    } catch (err) {
      // Health probes run even when no request does: let them notice a rotated password too.
      if (isAuthFailure(codeOf(err))) void this.credentials?.refresh();
      throw err;
    }
  }

  /**
   * The URL may have changed (the engine refreshed DATABASE_URL). New connections use it anyway;
   * the pool lifecycle (pool-lifecycle.ts) moves to a new pool when it points elsewhere, or once
   * new credentials log in. Set-up that was waiting to retry tries again at once.
   */
  urlChanged(): void {
    if (this.state === 'closed') return;
    this.pools.urlChanged();
    this.failures = 0;
    if (this.state !== 'ready') {
      this.retryTimer?.cancel();
      this.retryTimer = undefined;
      this.start();
    }
  }

  /** Asks for the credentials again and backs off; bounded by what is left of the query's budget. */
  private async beforeAuthRetry(attempt: number, remainingMs: number): Promise<void> {
    const backoffMs = backoffDelayMs({ baseMs: this.authInitialDelayMs, capMs: this.authMaxDelayMs }, attempt, this.random);
    const refreshed = Promise.all([this.credentials?.refresh(), this.sleep(backoffMs)]);
    await Promise.race([refreshed, this.sleep(remainingMs)]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    await this.setup?.catch(() => {});
    await this.pools.close();
  }

  private newPool(): Pool {
    const pool = this.createPool(this.url, 'app');
    // An idle client losing its server emits 'error' on the pool; unhandled, it would kill the process.
    pool.on('error', (err) => this.logger.warn({ event: 'database.idle_client_error', code: codeOf(err) }, 'Idle PostgreSQL client failed'));
    return pool;
  }

  /**
   * Set-up once, without retrying: create the database if missing, apply pending migrations.
   * Resolves the migrations applied now. For `npm run migrate`; the service uses start().
   */
  async setUpOnce(): Promise<string[]> {
    const created = await ensureDatabase(this.url(), (u, role) => {
      const p = this.createPool(u, role);
      p.on('error', () => {});
      return p;
    });
    if (created) this.logger.info({ event: 'database.created' }, 'Created the database');
    const client = await this.pools.current.connect();
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
      // Refused credentials: fetch them again before the next try (coalesced with requests').
      if (isAuthFailure(this.lastErrorCode)) void this.credentials?.refresh();
      const delayMs = backoffDelayMs({ baseMs: this.retryInitialMs, capMs: this.retryMaxMs }, this.failures, this.random);
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
