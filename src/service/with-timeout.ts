import type { Clock, TimerHandle } from '../engine/index.js';

/** Raised when a dependency call outlives its deadline. */
export class TimeoutError extends Error {
  readonly code = 'Timeout';

  constructor(timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles with `work`, or rejects with TimeoutError after `timeoutMs`: a request never waits on a
 * dependency longer than its deadline. The late outcome of `work` is swallowed (never unhandled).
 */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, clock: Clock): Promise<T> {
  let timer: TimerHandle | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new TimeoutError(timeoutMs)), timeoutMs);
  });
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => timer?.cancel());
}
