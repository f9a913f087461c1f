import { describe, expect, it } from 'vitest';
import type { Attempt } from '../../src/engine/refresh-machine.js';
import type { RefreshOutcome } from '../../src/engine/refresh-outcome.js';
import { Refresher, resultOf } from '../../src/engine/refresher.js';
import { FakeClock, settle } from '../support/fake-clock.js';

const ok = (reason: RefreshOutcome['reason']): RefreshOutcome => ({ ok: true, reason, changed: [], failed: [] });

function harness(opts: { autoRefresh?: boolean } = {}) {
  const clock = new FakeClock();
  const started: { attempt: Attempt; timeoutMs: number | undefined; finish: (o: RefreshOutcome) => void }[] = [];
  const settled: [number, RefreshOutcome][] = [];
  const due: number[] = [];
  const refresher = new Refresher({
    clock,
    policy: { ttlMs: 60_000, backoff: { baseMs: 1_000, capMs: 1_000 }, autoRefresh: opts.autoRefresh ?? true, random: () => 1 },
    run: (attempt, timeoutMs) => new Promise((finish) => started.push({ attempt, timeoutMs, finish })),
    settled: (attempt, outcome) => settled.push([attempt.seq, outcome]),
    readDue: (d) => due.push(d),
  });
  const finish = async (i: number, o: RefreshOutcome = ok(started[i]!.attempt.reason)) => {
    started[i]!.finish(o);
    await settle();
  };
  return { clock, refresher, started, settled, due, finish };
}

describe('Refresher', () => {
  it('hands joined callers the outcome of the attempt in flight, and queued ones that of the next', async () => {
    const h = harness();
    const first = h.refresher.request('all', false, 'startup', 5_000);
    const joined = h.refresher.request('all', false, 'forced');
    const queuedA = h.refresher.request(new Set(['A']), true, 'notice');
    const queuedB = h.refresher.request(new Set(['B']), true, 'notice');

    expect([first.answeredBy, joined.answeredBy, queuedA.answeredBy, queuedB.answeredBy]).toEqual(['started', 'in-flight', 'queued', 'queued']);
    expect(h.started.map((s) => [s.attempt.seq, s.timeoutMs])).toEqual([[1, 5_000]]);
    await h.finish(0);
    expect(h.started.map((s) => [s.attempt.seq, s.timeoutMs])).toEqual([
      [1, 5_000],
      [2, undefined],
    ]);
    expect(h.started[1]!.attempt.scope).toEqual(new Set(['A', 'B']));
    const second: RefreshOutcome = { ok: true, reason: 'notice', names: ['A', 'B'], changed: [], failed: [] };
    await h.finish(1, second);

    expect(await first.outcome).toBe(await joined.outcome);
    expect(await queuedA.outcome).toBe(second);
    expect(await queuedB.outcome).toBe(second);
    expect(h.settled.map(([seq]) => seq)).toEqual([1, 2]);
  });

  it('tells listeners after the state machine has taken the result in', async () => {
    const h = harness();
    const states: string[] = [];
    const refresher = new Refresher({
      clock: h.clock,
      policy: { ttlMs: 60_000, backoff: { baseMs: 1_000, capMs: 1_000 }, autoRefresh: true, random: () => 1 },
      run: async () => ({ ok: false, reason: 'forced', code: 'X', transient: true }),
      settled: () => states.push(`${refresher.current.kind}/${refresher.current.failures}`),
      readDue: () => {},
    });
    await refresher.request('all', false, 'forced').outcome;
    expect(states).toEqual(['backingOff/1']);
  });

  it('arms its timer only once running, and starts the scheduled refresh when it fires', async () => {
    const h = harness();
    h.refresher.request('all', false, 'startup');
    await h.finish(0);
    expect(h.clock.pending()).toEqual([]);

    h.refresher.run();
    expect(h.clock.pending()).toEqual([h.clock.now() + 60_000]);
    await h.clock.advance(60_000);

    expect(h.started.map((s) => s.attempt.reason)).toEqual(['startup', 'scheduled']);
    expect(h.clock.pending()).toEqual([]);
  });

  it('without timers, tells reads the due time, and a read at or after it starts the attempt', async () => {
    const h = harness({ autoRefresh: false });
    h.refresher.request('all', false, 'startup');
    await h.finish(0);
    h.refresher.run();
    const dueAtMs = h.clock.now() + 60_000;
    expect(h.due.at(-1)).toBe(dueAtMs);

    await h.clock.advance(59_999);
    h.refresher.read();
    expect(h.started).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.due.at(-1)).toBe(-Infinity);
    h.refresher.read();

    expect(h.due.at(-1)).toBe(Infinity);
    expect(h.started.map((s) => s.attempt.reason)).toEqual(['startup', 'expired-read']);
  });

  it('with timers, never has reads start an attempt before the timer fires', async () => {
    const h = harness();
    h.refresher.request('all', false, 'startup');
    await h.finish(0);
    h.refresher.run();
    expect(h.due.at(-1)).toBe(Infinity);
  });

  it('answers everything with Closed once closed, the queued callers included', async () => {
    const h = harness();
    h.refresher.request('all', false, 'startup');
    const queued = h.refresher.request('all', true, 'notice');
    h.refresher.run();
    h.refresher.close();

    expect(await queued.outcome).toEqual({ ok: false, reason: 'notice', code: 'Closed', transient: false });
    const after = h.refresher.request('all', false, 'forced');
    expect(after.answeredBy).toBe('closed');
    expect(await after.outcome).toEqual({ ok: false, reason: 'forced', code: 'Closed', transient: false });
    await h.finish(0);
    expect(h.clock.pending()).toEqual([]);
    expect(h.started).toHaveLength(1);
  });
});

describe('resultOf', () => {
  it('asks for a retry when an attempt succeeded but some secret failed transiently', () => {
    expect(resultOf(ok('forced'))).toBe('ok');
    expect(resultOf({ ok: true, reason: 'forced', changed: [], failed: [{ name: 'A', code: 'AccessDeniedException', transient: false }] })).toBe('ok');
    expect(resultOf({ ok: true, reason: 'forced', changed: [], failed: [{ name: 'A', code: 'ThrottlingException', transient: true }] })).toBe('retry');
    expect(resultOf({ ok: false, reason: 'forced', code: 'X', transient: true })).toBe('failed');
  });
});
