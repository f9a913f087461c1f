import { describe, expect, it } from 'vitest';
import {
  INITIAL_REFRESH_STATE,
  readDueAtMs,
  timerDueAtMs,
  transition,
  type RefreshEvent,
  type RefreshPolicy,
  type RefreshState,
} from '../../src/engine/refresh-machine.js';

const NOW = 1_000_000;
const policy = (over: Partial<RefreshPolicy> = {}): RefreshPolicy => ({
  nowMs: NOW,
  ttlMs: 60_000,
  backoff: { baseMs: 1_000, capMs: 8_000 },
  autoRefresh: true,
  random: () => 1,
  ...over,
});
const all = { type: 'request', scope: 'all', fresh: false, reason: 'forced' } as const;
const names = (...n: string[]) => ({ type: 'request', scope: new Set(n), fresh: false, reason: 'notice' }) as const;

/** Feeds events in order; returns the last transition. */
function run(events: RefreshEvent[], p: RefreshPolicy = policy(), from: RefreshState = INITIAL_REFRESH_STATE) {
  let t = { state: from } as ReturnType<typeof transition>;
  for (const e of events) t = transition(t.state, e, p);
  return t;
}
const running = run([{ type: 'run' }]).state;
const fresh = run([all, { type: 'settled', seq: 1, result: 'ok' }, { type: 'run' }]).state;

describe('refresh state machine: requests', () => {
  it('starts attempt 1 on the first request, whatever the state before start-up', () => {
    const t = transition(INITIAL_REFRESH_STATE, all, policy());

    expect(t.start).toEqual({ seq: 1, scope: 'all', reason: 'forced' });
    expect(t.answeredBy).toBe('started');
    expect(t.state).toMatchObject({ kind: 'refreshing', seq: 1, inFlight: { seq: 1, scope: 'all' } });
  });

  it('joins the attempt in flight when it reads what is asked', () => {
    const t = run([all, names('A')]);

    expect(t.answeredBy).toBe('in-flight');
    expect(t.start).toBeUndefined();
    expect(t.state.queued).toBeUndefined();
  });

  it('queues an attempt for names the one in flight does not read', () => {
    const t = run([names('A'), names('A', 'B')]);

    expect(t.answeredBy).toBe('queued');
    expect(t.state.queued).toEqual({ scope: new Set(['A', 'B']), reason: 'notice' });
  });

  it('queues a request for everything behind a names-only attempt, and joins one whose names cover the request', () => {
    expect(run([names('A'), all]).answeredBy).toBe('queued');
    expect(run([names('A', 'B'), names('B')]).answeredBy).toBe('in-flight');
    expect(run([names('A', 'B'), names('B', 'C')]).answeredBy).toBe('queued');
  });

  it('starts out expired, not running, with no attempt yet', () => {
    expect(INITIAL_REFRESH_STATE).toEqual({ kind: 'expired', seq: 0, inFlight: undefined, queued: undefined, failures: 0, dueAtMs: undefined, running: false });
  });

  it('queues a fresh request even when the attempt in flight reads everything', () => {
    const t = run([all, { ...names('A'), fresh: true }]);
    expect(t.answeredBy).toBe('queued');
  });

  it('merges later requests into the one queued attempt, keeping its first reason', () => {
    const t = run([all, { ...names('A'), fresh: true }, { ...names('B'), fresh: true, reason: 'auth-failure' }]);
    expect(t.state.queued).toEqual({ scope: new Set(['A', 'B']), reason: 'notice' });
    expect(run([all, { ...names('A'), fresh: true }, { ...all, fresh: true }]).state.queued?.scope).toBe('all');
    expect(run([all, { ...all, fresh: true }, { ...names('B'), fresh: true }]).state.queued?.scope).toBe('all');
  });

  it('starts the queued attempt as soon as the one in flight settles', () => {
    const t = run([all, { ...names('A'), fresh: true }, { type: 'settled', seq: 1, result: 'ok' }]);

    expect(t.start).toEqual({ seq: 2, scope: new Set(['A']), reason: 'notice' });
    expect(t.state).toMatchObject({ kind: 'refreshing', seq: 2, queued: undefined, failures: 0 });
  });
});

describe('refresh state machine: results', () => {
  it('is fresh after a full success, with the next refresh jittered across [TTL/2, TTL]', () => {
    expect(run([all, { type: 'settled', seq: 1, result: 'ok' }], policy({ random: () => 0 })).state).toMatchObject({
      kind: 'fresh',
      failures: 0,
      dueAtMs: NOW + 30_000,
      inFlight: undefined,
    });
    expect(run([all, { type: 'settled', seq: 1, result: 'ok' }], policy({ random: () => 1 })).state.dueAtMs).toBe(NOW + 60_000);
  });

  it('without timers, falls due exactly at the TTL', () => {
    const t = run([all, { type: 'settled', seq: 1, result: 'ok' }], policy({ autoRefresh: false, random: () => 0 }));
    expect(t.state.dueAtMs).toBe(NOW + 60_000);
  });

  it('backs off after a failure or a partial success with transient failures, counting them', () => {
    const failed = run([all, { type: 'settled', seq: 1, result: 'failed' }]).state;
    expect(failed).toMatchObject({ kind: 'backingOff', failures: 1, dueAtMs: NOW + 1_000 });

    const again = run([all, { type: 'settled', seq: 2, result: 'retry' }], policy(), { ...failed, running: true });
    expect(again.state).toMatchObject({ kind: 'backingOff', failures: 2, dueAtMs: NOW + 2_000 });

    const ok = run([all, { type: 'settled', seq: 3, result: 'ok' }], policy(), again.state);
    expect(ok.state).toMatchObject({ kind: 'fresh', failures: 0 });
  });

  it('ignores the result of an attempt that is not the one in flight', () => {
    const inFlight = run([all]).state;
    expect(transition(inFlight, { type: 'settled', seq: 7, result: 'ok' }, policy()).state).toBe(inFlight);
    expect(transition(fresh, { type: 'settled', seq: 1, result: 'ok' }, policy()).state).toBe(fresh);
  });

  it('returns to its schedule after a names-only attempt, whatever its result', () => {
    const backingOff = run([all, { type: 'settled', seq: 1, result: 'failed' }, { type: 'run' }]).state;
    for (const result of ['ok', 'failed'] as const) {
      const t = run([names('A'), { type: 'settled', seq: 2, result }], policy({ nowMs: NOW + 500 }), backingOff);
      expect(t.state).toEqual({ ...backingOff, seq: 2 });
    }
    const t = run([names('A'), { type: 'settled', seq: 2, result: 'failed' }], policy({ nowMs: NOW + 500 }), fresh);
    expect(t.state).toEqual({ ...fresh, seq: 2 });
  });
});

describe('refresh state machine: timers and reads', () => {
  it('starts a scheduled refresh when its timer fires, or a retry while backing off', () => {
    expect(transition(fresh, { type: 'due' }, policy()).start).toEqual({ seq: 2, scope: 'all', reason: 'scheduled' });
    const backingOff = run([all, { type: 'settled', seq: 1, result: 'failed' }, { type: 'run' }]).state;
    expect(transition(backingOff, { type: 'due' }, policy()).start).toEqual({ seq: 2, scope: 'all', reason: 'retry' });
  });

  it('without timers, a due timer only marks it expired, and the next read starts the attempt', () => {
    const manual = policy({ autoRefresh: false });
    const expired = transition(fresh, { type: 'due' }, manual);
    expect(expired.start).toBeUndefined();
    expect(expired.state.kind).toBe('expired');

    expect(transition(expired.state, { type: 'read' }, manual).start).toEqual({ seq: 2, scope: 'all', reason: 'expired-read' });
    const failedThenDue = run([{ type: 'read' }, { type: 'settled', seq: 2, result: 'failed' }, { type: 'due' }], manual, expired.state);
    expect(failedThenDue.state.kind).toBe('expired');
    expect(transition(failedThenDue.state, { type: 'read' }, manual).start?.reason).toBe('retry');
  });

  it('without timers, a read at or past the due time starts the attempt although the timer never fired', () => {
    const manual = (nowMs: number) => policy({ autoRefresh: false, nowMs });
    const due = fresh.dueAtMs!;
    expect(readDueAtMs(fresh, manual(NOW))).toBe(due);
    expect(transition(fresh, { type: 'read' }, manual(due - 1)).start).toBeUndefined();
    expect(transition(fresh, { type: 'read' }, manual(due)).start).toEqual({ seq: 2, scope: 'all', reason: 'expired-read' });
    const backingOff = run([all, { type: 'settled', seq: 1, result: 'failed' }, { type: 'run' }], manual(NOW)).state;
    expect(transition(backingOff, { type: 'read' }, manual(backingOff.dueAtMs!)).start?.reason).toBe('retry');
    expect(transition(fresh, { type: 'read' }, policy({ nowMs: due + 1 })).start).toBeUndefined();
    expect(readDueAtMs(fresh, policy())).toBe(Infinity);
    expect(readDueAtMs(INITIAL_REFRESH_STATE, manual(NOW))).toBe(Infinity);
  });

  it('ignores reads unless expired and running, and timers while refreshing', () => {
    expect(transition(fresh, { type: 'read' }, policy()).state).toBe(fresh);
    expect(transition(INITIAL_REFRESH_STATE, { type: 'read' }, policy()).start).toBeUndefined();
    const refreshing = run([all], policy(), running).state;
    expect(transition(refreshing, { type: 'due' }, policy()).state).toBe(refreshing);
    expect(transition(running, { type: 'due' }, policy()).state).toBe(running);
  });

  it('asks for a timer only once running, and only when fresh or backing off', () => {
    const notRunning = run([all, { type: 'settled', seq: 1, result: 'ok' }]).state;
    expect(timerDueAtMs(notRunning)).toBeUndefined();
    expect(timerDueAtMs(fresh)).toBe(fresh.dueAtMs);
    expect(timerDueAtMs(run([all], policy(), fresh).state)).toBeUndefined();
    expect(timerDueAtMs(transition(fresh, { type: 'due' }, policy({ autoRefresh: false })).state)).toBeUndefined();
    const backingOff = run([all, { type: 'settled', seq: 1, result: 'failed' }, { type: 'run' }]).state;
    expect(timerDueAtMs(backingOff)).toBe(NOW + 1_000);
  });
});

describe('refresh state machine: close', () => {
  it('drops the attempt in flight and the queue, and starts nothing afterwards', () => {
    const closed = run([all, { ...all, fresh: true }, { type: 'close' }]).state;
    expect(closed).toMatchObject({ kind: 'closed', inFlight: undefined, queued: undefined, dueAtMs: undefined });

    for (const e of [all, { type: 'due' }, { type: 'read' }, { type: 'settled', seq: 1, result: 'ok' }, { type: 'run' }] as RefreshEvent[]) {
      const t = transition(closed, e, policy());
      expect(t.state).toBe(closed);
      expect(t.start).toBeUndefined();
    }
    expect(transition(closed, all, policy()).answeredBy).toBe('closed');
    expect(timerDueAtMs(closed)).toBeUndefined();
  });
});
