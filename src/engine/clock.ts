/** Time, injected so tests use a fake clock instead of sleeps. Every duration here is in ms. */
export interface TimerHandle {
  cancel(): void;
}

export interface TimerOptions {
  /**
   * Keep the process alive while the timer is pending. Off by default: a background refresh must
   * never hold a process that has finished its work; a start-up waiting to retry must, or Node
   * exits quietly (with 0) in the middle of it.
   */
  readonly keepAlive?: boolean;
}

export interface Clock {
  now(): number;
  /** Runs `fn` after `delayMs`; the timer does not keep the process alive unless asked to. */
  setTimeout(fn: () => void, delayMs: number, options?: TimerOptions): TimerHandle;
}

/**
 * The longest delay one Node timer can wait: a longer one fires after 1 ms, with a
 * TimeoutOverflowWarning (a 60-day TTL once made the refresh loop run nonstop).
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs, options) {
    // A longer delay is chained: links of at most MAX_TIMER_DELAY_MS, counted on Node's monotonic
    // timers like a single one, so a wall-clock step does not move it.
    let t: NodeJS.Timeout;
    const arm = (leftMs: number) => {
      const linkMs = Math.min(MAX_TIMER_DELAY_MS, leftMs);
      t = setTimeout(() => (leftMs > linkMs ? arm(leftMs - linkMs) : fn()), linkMs);
      if (options?.keepAlive !== true) t.unref();
    };
    arm(Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
};
