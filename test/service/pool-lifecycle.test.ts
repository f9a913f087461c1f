import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { PoolLifecycle, drainPool, targetOf } from '../../src/service/pool-lifecycle.js';
import { captureLogger } from '../support/capture-logger.js';

/** A pool that records what happens to it: connects succeed or fail as told, `end()` is counted. */
class FakePool extends EventEmitter {
  ended = 0;
  waitingCount = 0;
  connectFails = false;
  constructor(readonly url: string) {
    super();
  }
  async connect() {
    if (this.connectFails) throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
    return { release: () => {} };
  }
  async end() {
    this.ended++;
  }
}

function lifecycle(startUrl = 'postgresql://app:pw1@db.internal:5432/app') {
  let url = startUrl;
  const pools: FakePool[] = [];
  let nextFails = false;
  const logger = captureLogger();
  const pl = new PoolLifecycle({
    url: () => url,
    createPool: () => {
      const p = new FakePool(url);
      p.connectFails = nextFails;
      pools.push(p);
      return p as unknown as Pool;
    },
    logger,
  });
  return {
    pl,
    pools,
    logger,
    setUrl: (u: string) => (url = u),
    failNextConnects: (fails: boolean) => (nextFails = fails),
  };
}

describe('PoolLifecycle', () => {
  it('replaces the pool at once and ends the old one when DATABASE_URL points to another server or database', () => {
    const t = lifecycle();
    const first = t.pl.current;

    t.setUrl('postgresql://app:pw1@db2.internal:5432/app');
    const kind = t.pl.urlChanged();

    expect(kind).toBe('moved');
    expect(t.pl.current).not.toBe(first);
    expect((t.pl.current as unknown as FakePool).url).toBe('postgresql://app:pw1@db2.internal:5432/app');
    expect(t.pools[0]!.ended).toBe(1);
    expect(t.pl.credentialSwitches).toBe(0);
  });

  it('ends the old pool of a move to another database on the same server, and never the new one', () => {
    const t = lifecycle();
    t.setUrl('postgresql://app:pw1@db.internal:5432/other');
    t.pl.urlChanged();
    expect(t.pools.map((p) => p.ended)).toEqual([1, 0]);
  });

  it('moves to a pool with new credentials once they open a connection, and drains the old one', async () => {
    const t = lifecycle();
    const first = t.pools[0]!;

    t.setUrl('postgresql://app:pw2@db.internal:5432/app');
    expect(t.pl.urlChanged()).toBe('credentials');
    expect(t.pl.current).toBe(first);
    await t.pl.settled();

    expect(t.pl.current).toBe(t.pools[1]);
    expect(first.ended).toBe(1);
    expect(t.pl.credentialSwitches).toBe(1);
  });

  it('keeps the pool when new credentials do not log in yet, and ends the pool that tried them', async () => {
    const t = lifecycle();
    t.failNextConnects(true);
    t.setUrl('postgresql://app:pw2@db.internal:5432/app');

    t.pl.urlChanged();
    await t.pl.settled();

    expect(t.pl.current).toBe(t.pools[0]);
    expect(t.pools.map((p) => p.ended)).toEqual([0, 1]);
    expect(t.logger.lines.find((l) => l.obj.event === 'database.credentials_not_usable_yet')?.obj).toMatchObject({ code: '28P01' });
  });

  it('switches again after a switch in flight when the credentials changed meanwhile, to the latest ones', async () => {
    const t = lifecycle();
    t.setUrl('postgresql://app:pw2@db.internal:5432/app');
    t.pl.urlChanged();
    t.setUrl('postgresql://app:pw3@db.internal:5432/app');
    t.pl.urlChanged();
    t.pl.urlChanged();
    await t.pl.settled();

    expect(t.pools).toHaveLength(3);
    expect((t.pl.current as unknown as FakePool).url).toContain('pw3');
    expect(t.pl.credentialSwitches).toBe(2);
  });

  it('ends the current pool on close and switches nothing after', async () => {
    const t = lifecycle();
    await t.pl.close();
    t.setUrl('postgresql://app:pw1@db2.internal:5432/app');

    expect(t.pl.urlChanged()).toBe('closed');
    expect(t.pools.map((p) => p.ended)).toEqual([1]);
  });
});

describe('drainPool', () => {
  it('ends a pool at once when nobody waits, else once the last waiter got a connection', () => {
    const idle = new FakePool('a');
    drainPool(idle as unknown as Pool);
    const busy = new FakePool('b');
    busy.waitingCount = 1;
    drainPool(busy as unknown as Pool);
    const before = busy.ended;
    busy.waitingCount = 0;
    busy.emit('acquire');

    expect(idle.ended).toBe(1);
    expect([before, busy.ended]).toEqual([0, 1]);
  });
});

describe('targetOf', () => {
  it('keeps host, port and database and drops the credentials', () => {
    expect(targetOf('postgresql://app:planted-pw@db.internal:6432/app')).toBe('db.internal:6432/app');
    expect(targetOf('postgresql://app:planted-other-pw@db.internal:6432/app')).toBe(targetOf('postgresql://app:planted-pw@db.internal:6432/app'));
  });
});
