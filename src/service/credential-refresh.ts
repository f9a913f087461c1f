import type { Clock, TimerHandle } from '../engine/index.js';
import { systemClock } from '../engine/index.js';

/**
 * The port a connection pool uses to ask for its credentials again after the server refused them
 * (a rotated password). Built in the composition root from the secrets engine. Never rejects.
 */
export interface CredentialRefresh {
  refresh(): Promise<void>;
}

export interface CoalescedRefreshOptions {
  /** Fetches the secret again (e.g. the engine's refresh of DATABASE_URL); its outcome is not ours to judge. */
  readonly run: () => Promise<unknown>;
  /** At most one refresh starts per this interval, however many connections fail at once. */
  readonly minIntervalMs?: number;
  readonly clock?: Clock;
}

export const DEFAULT_CREDENTIAL_REFRESH_INTERVAL_MS = 2_000;

/**
 * Coalesces refresh requests from many failing connections into few secret fetches: a request
 * while one runs joins it; a request within `minIntervalMs` of the last start joins one trailing
 * refresh at the end of that interval (so a request that follows a stale answer is never lost,
 * and a storm of authentication failures costs one fetch per interval).
 */
export function createCoalescedRefresh(options: CoalescedRefreshOptions): CredentialRefresh {
  const { run, minIntervalMs = DEFAULT_CREDENTIAL_REFRESH_INTERVAL_MS, clock = systemClock } = options;
  let inFlight: Promise<void> | undefined;
  let trailing: { readonly promise: Promise<void>; readonly timer: TimerHandle } | undefined;
  let lastStartMs = Number.NEGATIVE_INFINITY;

  function start(): Promise<void> {
    lastStartMs = clock.now();
    const current = Promise.resolve()
      .then(run)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (inFlight === current) inFlight = undefined;
      });
    inFlight = current;
    return current;
  }

  return {
    refresh() {
      if (inFlight !== undefined) return inFlight;
      if (trailing !== undefined) return trailing.promise;
      const waitMs = lastStartMs + minIntervalMs - clock.now();
      if (waitMs <= 0) return start();
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      const timer = clock.setTimeout(() => {
        trailing = undefined;
        void start().then(resolve);
      }, waitMs);
      trailing = { promise, timer };
      return promise;
    },
  };
}
