import type { Clock, TimerHandle } from './clock.js';
import type { RefreshOutcome, RefreshReason } from './refresh-outcome.js';
import type { Attempt, RefreshPolicy, RefreshState, Scope } from './refresh-machine.js';
import { INITIAL_REFRESH_STATE, readDueAtMs, timerDueAtMs, transition, type RefreshEvent } from './refresh-machine.js';

export interface RefresherOptions {
  readonly clock: Clock;
  readonly policy: Omit<RefreshPolicy, 'nowMs'>;
  /** Reads and applies one attempt; never rejects. */
  readonly run: (attempt: Attempt, timeoutMs: number | undefined) => Promise<RefreshOutcome>;
  /** After the state machine has taken an attempt's result in, before its callers hear of it. */
  readonly settled: (attempt: Attempt, outcome: RefreshOutcome) => void;
  /** For the hot path: from when a read should start an attempt (Infinity: never, -Infinity: now). */
  readonly readDue: (atMs: number) => void;
}

export interface Requested {
  readonly outcome: Promise<RefreshOutcome>;
  readonly answeredBy: 'started' | 'in-flight' | 'queued' | 'closed';
}

/**
 * An attempt's outcome for the state machine: transient per-secret failures call for a retry, and
 * so does an answer from a replica region (the primary failed): the retry, at the backoff's pace,
 * tries the primary first, so the engine is back on it within one backoff delay of its return.
 */
export function resultOf(outcome: RefreshOutcome): 'ok' | 'retry' | 'replica' | 'failed' {
  if (!outcome.ok) return 'failed';
  if (outcome.failed.some((f) => f.transient)) return 'retry';
  return outcome.servedByReplica === true ? 'replica' : 'ok';
}

/**
 * Drives the refresh state machine: feeds it timers, reads and requests, runs the attempts it
 * starts (one at a time), keeps one timer for the next due attempt, and hands each caller the
 * outcome of the attempt that answers it.
 */
export class Refresher {
  private state: RefreshState = INITIAL_REFRESH_STATE;
  private inFlight: { readonly seq: number; readonly outcome: Promise<RefreshOutcome> } | undefined;
  private queued: { readonly outcome: Promise<RefreshOutcome>; readonly resolve: (o: Promise<RefreshOutcome> | RefreshOutcome) => void } | undefined;
  private timer: { readonly atMs: number; readonly handle: TimerHandle } | undefined;

  constructor(private readonly options: RefresherOptions) {}

  get current(): RefreshState {
    return this.state;
  }

  /** Timers and reads may start attempts from now on (start-up has succeeded). */
  run(): void {
    this.dispatch({ type: 'run' });
  }

  request(scope: Scope, fresh: boolean, reason: RefreshReason, timeoutMs?: number): Requested {
    // A request always gets an answer from the state machine.
    const answeredBy = this.dispatch({ type: 'request', scope, fresh, reason }, timeoutMs)!;
    if (answeredBy === 'closed') return { outcome: Promise.resolve(closedOutcome(reason)), answeredBy };
    if (answeredBy !== 'queued') return { outcome: this.inFlight!.outcome, answeredBy };
    if (this.queued === undefined) {
      let resolve!: (o: Promise<RefreshOutcome> | RefreshOutcome) => void;
      const outcome = new Promise<RefreshOutcome>((r) => (resolve = r));
      this.queued = { outcome, resolve };
    }
    return { outcome: this.queued.outcome, answeredBy };
  }

  read(): void {
    this.dispatch({ type: 'read' });
  }

  close(): void {
    // A queued attempt will never start: its callers hear so, under the reason they queued it for.
    const queued = this.queued && { resolve: this.queued.resolve, outcome: closedOutcome(this.state.queued!.reason) };
    this.queued = undefined;
    this.dispatch({ type: 'close' });
    queued?.resolve(queued.outcome);
  }

  private dispatch(event: RefreshEvent, timeoutMs?: number): 'started' | 'in-flight' | 'queued' | 'closed' | undefined {
    const t = transition(this.state, event, { ...this.options.policy, nowMs: this.options.clock.now() });
    this.state = t.state;
    if (t.start !== undefined) this.begin(t.start, timeoutMs);
    this.syncTimer();
    this.options.readDue(readDueAtMs(this.state, this.options.policy));
    return t.answeredBy;
  }

  private begin(attempt: Attempt, timeoutMs: number | undefined): void {
    const outcome = this.options.run(attempt, timeoutMs).then((o) => {
      this.dispatch({ type: 'settled', seq: attempt.seq, result: resultOf(o) });
      this.options.settled(attempt, o);
      return o;
    });
    this.inFlight = { seq: attempt.seq, outcome };
    // While an attempt runs no other starts, so a start with callers queued is their attempt.
    const queued = this.queued;
    this.queued = undefined;
    queued?.resolve(outcome);
  }

  private syncTimer(): void {
    const atMs = timerDueAtMs(this.state);
    if (this.timer?.atMs === atMs) return;
    this.timer?.handle.cancel();
    this.timer = undefined;
    if (atMs === undefined) return;
    const handle = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.dispatch({ type: 'due' });
    }, atMs - this.options.clock.now());
    this.timer = { atMs, handle };
  }
}

function closedOutcome(reason: RefreshReason): RefreshOutcome {
  return { ok: false, reason, code: 'Closed', transient: false };
}
