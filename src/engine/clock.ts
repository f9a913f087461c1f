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

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs, options) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    if (options?.keepAlive !== true) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
