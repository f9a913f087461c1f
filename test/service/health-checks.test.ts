import { describe, expect, it } from 'vitest';
import { createHealthChecks } from '../../src/service/health-checks.js';
import { FakeClock, settle } from '../support/fake-clock.js';

describe('createHealthChecks', () => {
  it('reports each dependency up with its latency', async () => {
    const health = createHealthChecks({ probes: { database: async () => {}, redis: async () => 'PONG' } });

    const { dependencies: result } = await health.check();

    expect(result.database).toMatchObject({ status: 'up' });
    expect(result.redis.status).toBe('up');
    expect(typeof result.database.latencyMs).toBe('number');
  });

  it('reports a failing probe down with its code, never its message', async () => {
    const health = createHealthChecks({
      probes: {
        database: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=x'), { code: 'ECONNREFUSED' })),
        redis: () => Promise.reject(new Error('anything')),
      },
    });

    const { dependencies: result } = await health.check();

    expect(result.database).toEqual({ status: 'down', latencyMs: expect.any(Number), code: 'ECONNREFUSED' });
    expect(result.redis.code).toBe('UnknownError');
    expect(JSON.stringify(result)).not.toContain('password');
  });

  it('answers within the deadline when a probe hangs', async () => {
    const clock = new FakeClock();
    const health = createHealthChecks({ probes: { database: () => new Promise(() => {}), redis: async () => {} }, timeoutMs: 500, clock });

    const pending = health.check();
    await clock.advance(500);

    await expect(pending).resolves.toMatchObject({ dependencies: { database: { status: 'down', code: 'Timeout' }, redis: { status: 'up' } } });
  });

  it('joins a probe in flight instead of starting another, even after a caller gave up on it', async () => {
    const clock = new FakeClock();
    let started = 0;
    let release!: () => void;
    const health = createHealthChecks({
      probes: {
        database: () => {
          started++;
          return new Promise<void>((r) => (release = r));
        },
      },
      timeoutMs: 100,
      clock,
    });

    const first = health.check();
    const second = health.check();
    await clock.advance(100);
    await first;
    await second;
    const third = health.check();
    await settle();
    release();

    expect(started).toBe(1);
    await expect(third).resolves.toMatchObject({ dependencies: { database: { status: 'up' } } });
    const fourth = health.check();
    await settle();
    expect(started).toBe(2);
    release();
    await fourth;
  });
});

describe('createHealthChecks sharing a round (maxAgeMs)', () => {
  function counted(outcome: { fail: boolean }) {
    const rounds = { database: 0, redis: 0 };
    const probe = (name: keyof typeof rounds) => async () => {
      rounds[name]++;
      if (outcome.fail) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
    };
    return { rounds, probes: { database: probe('database'), redis: probe('redis') } };
  }

  it('answers 50 concurrent callers with one probe round, all told the same results', async () => {
    const clock = new FakeClock();
    const { rounds, probes } = counted({ fail: false });
    const health = createHealthChecks({ probes, clock, maxAgeMs: 1_000 });

    const reports = await Promise.all(Array.from({ length: 50 }, () => health.check()));

    expect(rounds).toEqual({ database: 1, redis: 1 });
    for (const r of reports) expect(r).toEqual({ dependencies: { database: { status: 'up', latencyMs: expect.any(Number) }, redis: { status: 'up', latencyMs: expect.any(Number) } }, ageMs: 0 });
  });

  it('serves the shared result with its age until maxAgeMs, then probes again and shows a failure', async () => {
    const clock = new FakeClock();
    const outcome = { fail: false };
    const { rounds, probes } = counted(outcome);
    const health = createHealthChecks({ probes, clock, maxAgeMs: 1_000 });
    await health.check();

    outcome.fail = true;
    await clock.advance(999);
    const shared = await health.check();
    await clock.advance(1);
    const fresh = await health.check();

    expect(shared).toMatchObject({ ageMs: 999, dependencies: { database: { status: 'up' }, redis: { status: 'up' } } });
    expect(fresh).toMatchObject({ ageMs: 0, dependencies: { database: { status: 'down', code: 'ECONNREFUSED' }, redis: { status: 'down' } } });
    expect(rounds).toEqual({ database: 2, redis: 2 });
  });

  it('starts a round per call once the previous one has finished when maxAgeMs is 0 (the default)', async () => {
    const { rounds, probes } = counted({ fail: false });
    const health = createHealthChecks({ probes, clock: new FakeClock() });

    await health.check();
    await health.check();

    expect(rounds).toEqual({ database: 2, redis: 2 });
  });
});

describe('createHealthChecks with a dependency off', () => {
  it('reports it off with its reason and never probes it', async () => {
    let probed = 0;
    const health = createHealthChecks({ probes: { database: async () => {}, redis: async () => void probed++ }, off: { redis: 'SingleInstance' } });

    const { dependencies: result } = await health.check();

    expect(result.redis).toEqual({ status: 'off', latencyMs: 0, code: 'SingleInstance' });
    expect(result.database.status).toBe('up');
    expect(probed).toBe(0);
  });
});
