import { setMaxListeners } from 'node:events';
import type { Clock, TimerHandle } from './clock.js';
import { systemClock } from './clock.js';

/** Raised when work outlives its deadline. `code` is stable for logs and metrics. */
export class DeadlineExceededError extends Error {
  readonly code = 'Timeout';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms`);
    this.name = 'DeadlineExceededError';
    this.timeoutMs = timeoutMs;
  }
}

/** Listeners one deadline's signal may carry before Node warns of a leak. */
const SIGNAL_LISTENERS = 100;

export interface DeadlineOptions {
  readonly timeoutMs: number;
  readonly clock?: Clock;
  /** The error to reject with (and abort the work with) at the deadline; DeadlineExceededError by default. */
  readonly error?: () => Error;
}

/**
 * Settles with `work`, or rejects at the deadline: nothing waits on a dependency longer than its
 * deadline, whatever the dependency does. Work given as a function receives an AbortSignal that
 * the deadline aborts, so it can stop its I/O; work given as a promise is only raced. Either
 * way its late outcome is swallowed (never an unhandled rejection) and never returned.
 */
export function withDeadline<T>(work: Promise<T> | ((signal: AbortSignal) => Promise<T>), options: DeadlineOptions): Promise<T> {
  const { timeoutMs, clock = systemClock, error = () => new DeadlineExceededError(timeoutMs) } = options;
  const controller = new AbortController();
  // One attempt may hand its signal to many calls at once (up to 20 GetSecretValue calls, each
  // with the SDK's own retries): more than Node's default of 10 listeners is expected, not a leak.
  setMaxListeners(SIGNAL_LISTENERS, controller.signal);
  let timer: TimerHandle | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      const err = error();
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  let running: Promise<T>;
  try {
    running = typeof work === 'function' ? work(controller.signal) : work;
  } catch (err) {
    running = Promise.reject(err);
  }
  running.catch(() => {});
  return Promise.race([running, deadline]).finally(() => timer?.cancel());
}
