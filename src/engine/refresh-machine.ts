import type { BackoffPolicy } from './backoff.js';
import { backoffDelayMs, jitteredRefreshDelayMs } from './backoff.js';
import type { RefreshReason } from './refresh-outcome.js';

/**
 * The refresher's states. fresh: the last full attempt succeeded, the next falls due later.
 * expired: an attempt is due and the next read starts it (without timers, as on Lambda).
 * refreshing: one attempt in flight. backingOff: the last attempt failed, a retry falls due
 * later. closed: nothing starts any more.
 */
export type RefreshStateKind = 'fresh' | 'expired' | 'refreshing' | 'backingOff' | 'closed';

/** The secrets an attempt reads: the whole catalog, or a few names. */
export type Scope = 'all' | ReadonlySet<string>;

export interface Attempt {
  /** Attempts are numbered from 1 in the order they start; a result carries its number. */
  readonly seq: number;
  readonly scope: Scope;
  readonly reason: RefreshReason;
}

/** What a names-only attempt returns to when it ends: it does not move the schedule. */
interface Resume {
  readonly kind: 'fresh' | 'expired' | 'backingOff';
  readonly dueAtMs: number | undefined;
}

export interface RefreshState {
  readonly kind: RefreshStateKind;
  /** The number of the last attempt started (0 before any). */
  readonly seq: number;
  /** The attempt in flight, exactly when `kind` is refreshing. */
  readonly inFlight: (Attempt & { readonly resume: Resume }) | undefined;
  /** Asked for while an attempt ran that may have read the store too early: it starts next. */
  readonly queued: { readonly scope: Scope; readonly reason: RefreshReason } | undefined;
  /** Consecutive failed attempts of the whole catalog. */
  readonly failures: number;
  /** When the next attempt falls due (scheduled refresh or retry); undefined when none is planned. */
  readonly dueAtMs: number | undefined;
  /** False until start-up succeeds: before that, start-up alone decides when to try again. */
  readonly running: boolean;
}

export const INITIAL_REFRESH_STATE: RefreshState = {
  kind: 'expired',
  seq: 0,
  inFlight: undefined,
  queued: undefined,
  failures: 0,
  dueAtMs: undefined,
  running: false,
};

export type RefreshEvent =
  /** refresh() or start-up. `fresh`: the attempt must start after this request. */
  | { readonly type: 'request'; readonly scope: Scope; readonly fresh: boolean; readonly reason: RefreshReason }
  /** The timer set for `dueAtMs` fired. */
  | { readonly type: 'due' }
  /** A read found the refresher expired, or (without timers) found its due time passed. */
  | { readonly type: 'read' }
  /**
   * An attempt ended: ok, ok with transient per-secret failures (retry), ok but from a replica
   * region because the primary failed (replica), or failed.
   */
  | { readonly type: 'settled'; readonly seq: number; readonly result: 'ok' | 'retry' | 'replica' | 'failed' }
  /** Start-up succeeded: timers take over. */
  | { readonly type: 'run' }
  | { readonly type: 'close' };

export interface RefreshPolicy {
  readonly nowMs: number;
  readonly ttlMs: number;
  readonly backoff: BackoffPolicy;
  /** Timers start attempts; otherwise a due timer only marks the refresher expired for the next read. */
  readonly autoRefresh: boolean;
  readonly random: () => number;
}

export interface Transition {
  readonly state: RefreshState;
  /** Start this attempt now. */
  readonly start?: Attempt;
  /** For a request: the attempt that will answer it. */
  readonly answeredBy?: 'started' | 'in-flight' | 'queued' | 'closed';
}

/** The one transition function: every trigger (timer, read, request, result, close) goes through it. */
export function transition(state: RefreshState, event: RefreshEvent, policy: RefreshPolicy): Transition {
  if (state.kind === 'closed') return { state, ...(event.type === 'request' && { answeredBy: 'closed' as const }) };
  switch (event.type) {
    case 'request':
      return request(state, event);
    case 'due':
      if (state.kind !== 'fresh' && state.kind !== 'backingOff') return { state };
      if (policy.autoRefresh) return begin(state, 'all', state.failures > 0 ? 'retry' : 'scheduled');
      return { state: { ...state, kind: 'expired' } };
    case 'read':
      if (readDueAtMs(state, policy) > policy.nowMs) return { state };
      return begin(state, 'all', state.failures > 0 ? 'retry' : 'expired-read');
    case 'settled':
      return settled(state, event.seq, event.result, policy);
    case 'run':
      return { state: { ...state, running: true } };
    case 'close':
      return { state: { ...state, kind: 'closed', inFlight: undefined, queued: undefined, dueAtMs: undefined } };
  }
}

/**
 * From when a read starts an attempt: at once when expired; without timers, also from the due
 * time, compared with the clock by the read itself, because a host that froze (Lambda between
 * invocations) may read long before any timer callback runs. Infinity: reads start nothing.
 */
export function readDueAtMs(state: RefreshState, policy: Pick<RefreshPolicy, 'autoRefresh'>): number {
  if (!state.running) return Infinity;
  if (state.kind === 'expired') return -Infinity;
  if (!policy.autoRefresh && (state.kind === 'fresh' || state.kind === 'backingOff')) return state.dueAtMs ?? Infinity;
  return Infinity;
}

/** Whether a timer should be set, and for when. */
export function timerDueAtMs(state: RefreshState): number | undefined {
  return state.running && (state.kind === 'fresh' || state.kind === 'backingOff') ? state.dueAtMs : undefined;
}

function covers(outer: Scope, inner: Scope): boolean {
  if (outer === 'all') return true;
  if (inner === 'all') return false;
  for (const name of inner) if (!outer.has(name)) return false;
  return true;
}

function union(a: Scope, b: Scope): Scope {
  return a === 'all' || b === 'all' ? 'all' : new Set([...a, ...b]);
}

function request(state: RefreshState, event: Extract<RefreshEvent, { type: 'request' }>): Transition {
  const inFlight = state.inFlight;
  if (inFlight === undefined) return { ...begin(state, event.scope, event.reason), answeredBy: 'started' };
  // Joining is fine unless the caller needs a read that starts after its call (it knows the
  // store changed, e.g. a rotation notice): then the next attempt, which starts after this one.
  if (!event.fresh && covers(inFlight.scope, event.scope)) return { state, answeredBy: 'in-flight' };
  const queued = state.queued === undefined ? { scope: event.scope, reason: event.reason } : { ...state.queued, scope: union(state.queued.scope, event.scope) };
  return { state: { ...state, queued }, answeredBy: 'queued' };
}

/** Starts an attempt; only ever called from fresh, expired or backingOff, the states it resumes to. */
function begin(state: RefreshState, scope: Scope, reason: RefreshReason): Transition {
  const resume: Resume = { kind: state.kind as Resume['kind'], dueAtMs: state.dueAtMs };
  const start: Attempt = { seq: state.seq + 1, scope, reason };
  return { state: { ...state, kind: 'refreshing', seq: start.seq, inFlight: { ...start, resume } }, start };
}

function settled(state: RefreshState, seq: number, result: 'ok' | 'retry' | 'replica' | 'failed', policy: RefreshPolicy): Transition {
  const inFlight = state.inFlight;
  if (inFlight === undefined || inFlight.seq !== seq) return { state };
  let next: RefreshState;
  if (inFlight.scope !== 'all') {
    next = { ...state, ...inFlight.resume, inFlight: undefined };
    // A few names read from a replica: the primary failed, so the whole catalog is tried again
    // (primary first) at the backoff's pace rather than at the TTL's.
    if (result === 'replica' && next.kind === 'fresh') {
      const soonMs = policy.nowMs + backoffDelayMs(policy.backoff, 1, policy.random);
      next = { ...next, dueAtMs: Math.min(next.dueAtMs ?? soonMs, soonMs) };
    }
  } else if (result === 'ok') {
    const delayMs = policy.autoRefresh ? jitteredRefreshDelayMs(policy.ttlMs, policy.random) : policy.ttlMs;
    next = { ...state, kind: 'fresh', inFlight: undefined, failures: 0, dueAtMs: policy.nowMs + delayMs };
  } else {
    const failures = state.failures + 1;
    const dueAtMs = policy.nowMs + backoffDelayMs(policy.backoff, failures, policy.random);
    next = { ...state, kind: 'backingOff', inFlight: undefined, failures, dueAtMs };
  }
  if (state.queued === undefined) return { state: next };
  return begin({ ...next, queued: undefined }, state.queued.scope, state.queued.reason);
}
