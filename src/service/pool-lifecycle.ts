import type { Pool } from 'pg';
import type { Logger } from '../engine/index.js';
import { driverErrorCode, parsePostgresConnection } from '../engine/index.js';

export interface PoolLifecycleOptions {
  /** The current DATABASE_URL. */
  readonly url: () => string;
  /** A new application pool (its idle-client error handler already attached). */
  readonly createPool: () => Pool;
  readonly logger: Logger;
}

/** Where a URL points, credentials aside: when this changes, connections already open are wrong. */
export function targetOf(url: string): string {
  const parsed = parsePostgresConnection(url);
  return parsed.ok ? `${parsed.value.host}:${parsed.value.port}/${parsed.value.database}` : url;
}

/**
 * Ends a replaced pool without failing anyone: queries already waiting in it for a connection get
 * one first (an ended pool would leave them to time out), then each connection closes as it is
 * released.
 */
export function drainPool(pool: Pool): void {
  const end = () => void pool.end().catch(() => {});
  if (pool.waitingCount === 0) {
    end();
    return;
  }
  const check = () => {
    if (pool.waitingCount > 0) return;
    pool.off('acquire', check);
    pool.off('release', check);
    end();
  };
  pool.on('acquire', check);
  pool.on('release', check);
}

/**
 * The application pool and its replacements when DATABASE_URL changes: one state machine, apart
 * from set-up and the auth retries (database.ts). A move to another server or database replaces
 * the pool at once and ends the old one, since its open connections would keep answering from
 * the wrong place. A password or user change replaces it once the new credentials have opened a
 * connection: queries go to the new pool from then on, and each old connection closes when its
 * query is done (none is cut short), so no connection keeps a rotated-away login. Credentials
 * that do not log in yet leave the pool as it is. One switch at a time; a change during one
 * switches again after it, to the latest credentials.
 */
export class PoolLifecycle {
  private pool: Pool;
  private target: string;
  private closed = false;
  private switching: Promise<void> | undefined;
  private switchAgain = false;
  private switches = 0;

  constructor(private readonly options: PoolLifecycleOptions) {
    this.target = targetOf(options.url());
    this.pool = options.createPool();
  }

  /** The pool queries go to now. */
  get current(): Pool {
    return this.pool;
  }

  /** Times the pool was replaced for new credentials. */
  get credentialSwitches(): number {
    return this.switches;
  }

  /** The URL may have changed: `moved` (new pool now, old one ended) or `credentials` (switch once they log in). */
  urlChanged(): 'moved' | 'credentials' | 'closed' {
    if (this.closed) return 'closed';
    const target = targetOf(this.options.url());
    if (target === this.target) {
      this.options.logger.info({ event: 'database.credentials_changed' }, 'DATABASE_URL changed; moving to a pool with the new credentials');
      this.switchCredentials();
      return 'credentials';
    }
    this.target = target;
    const old = this.pool;
    this.pool = this.options.createPool();
    this.options.logger.info({ event: 'database.url_changed' }, 'DATABASE_URL points elsewhere; new pool, old connections drain');
    void old.end().catch(() => {});
    return 'moved';
  }

  /** Resolves when no credential switch is in flight (tests, close). */
  async settled(): Promise<void> {
    while (this.switching !== undefined) await this.switching;
  }

  /** Stops switching and ends the current pool. */
  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
    await this.pool.end().catch(() => {});
  }

  private switchCredentials(): void {
    if (this.switching !== undefined) {
      this.switchAgain = true;
      return;
    }
    this.switching = this.replacePool().finally(() => {
      this.switching = undefined;
      if (this.switchAgain && !this.closed) {
        this.switchAgain = false;
        this.switchCredentials();
      }
    });
  }

  private async replacePool(): Promise<void> {
    const next = this.options.createPool();
    try {
      const client = await next.connect();
      client.release();
    } catch (err) {
      void next.end().catch(() => {});
      this.options.logger.warn(
        { event: 'database.credentials_not_usable_yet', code: driverErrorCode(err) },
        'The new DATABASE_URL credentials do not open a connection yet; keeping the current pool (new connections retry with them)',
      );
      return;
    }
    if (this.closed) {
      await next.end().catch(() => {});
      return;
    }
    const old = this.pool;
    this.pool = next;
    this.switches++;
    this.options.logger.info({ event: 'database.pool_replaced' }, 'New connections use the new credentials; old connections close as their queries finish');
    drainPool(old);
  }
}
