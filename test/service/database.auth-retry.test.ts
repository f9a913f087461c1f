import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/service/database.js';
import { DatabaseUnavailableError } from '../../src/service/errors.js';
import { FakeClock, settle } from '../support/fake-clock.js';

/** A pool whose set-up succeeds and whose every query is refused with 28P01 (a rotated password). */
class RefusingPool extends EventEmitter {
  queries = 0;
  waitingCount = 0;
  async connect() {
    return { query: async () => ({ rows: [] }), release: () => {} };
  }
  async query() {
    this.queries++;
    throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
  }
  async end() {}
}

describe('Database auth retries', () => {
  it('gives up on a refused login once the budget is spent, however many attempts are left', async () => {
    const clock = new FakeClock();
    const pool = new RefusingPool();
    const database = new Database({
      url: 'postgresql://app:pw@db.internal:5432/app',
      createPool: () => pool as unknown as Pool,
      // The refresh answers at once and changes nothing: the backoff (1 s) paces the retries.
      credentials: { refresh: async () => undefined } as never,
      authRetry: { attempts: 100, initialDelayMs: 1_000, maxDelayMs: 1_000, budgetMs: 5_000 },
      clock,
      random: () => 1,
    });
    (database as unknown as { state: string }).state = 'ready';

    let outcome: unknown;
    void database.query('SELECT 1').catch((err: unknown) => (outcome = err));
    for (let s = 0; s < 30 && outcome === undefined; s++) await clock.advance(1_000);

    expect(outcome).toBeInstanceOf(DatabaseUnavailableError);
    expect(outcome).toMatchObject({ dbCode: '28P01' });
    // Tries at 0, 1, 2, 3, 4 and 5 s: the sixth finds the budget spent.
    expect(pool.queries).toBe(6);
    expect(database.stats()).toMatchObject({ authGaveUp: 1, authRetries: 5 });
    await settle();
  });

  it('waits no longer than the budget for a credentials refresh that never answers', async () => {
    const clock = new FakeClock();
    const pool = new RefusingPool();
    const database = new Database({
      url: 'postgresql://app:pw@db.internal:5432/app',
      createPool: () => pool as unknown as Pool,
      credentials: { refresh: () => new Promise(() => {}) } as never,
      authRetry: { attempts: 100, initialDelayMs: 100, maxDelayMs: 100, budgetMs: 5_000 },
      clock,
      random: () => 1,
    });
    (database as unknown as { state: string }).state = 'ready';

    let outcome: unknown;
    void database.query('SELECT 1').catch((err: unknown) => (outcome = err));
    await clock.advance(4_999);
    const before = outcome;
    await clock.advance(1);

    expect(before).toBeUndefined();
    expect(outcome).toBeInstanceOf(DatabaseUnavailableError);
    expect(pool.queries).toBe(2);
  });
});
