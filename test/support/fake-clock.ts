import type { Clock, TimerHandle, TimerOptions } from '../../src/engine/clock.js';

/** A clock whose time moves only when a test says so; timers fire in due order as it moves. */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void; keepAlive: boolean }>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, delayMs: number, options?: TimerOptions): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, delayMs), fn, keepAlive: options?.keepAlive === true });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Due times of pending timers, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Due times of pending timers that would keep a real process alive. */
  keepingAlive(): number[] {
    return [...this.timers.values()].filter((t) => t.keepAlive).map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves time forward, firing each timer at its due time, and lets promises settle between. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    // Work already under way (a load that is about to settle) runs before any timer fires.
    await settle();
    for (;;) {
      const next = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.current = next[1].at;
      next[1].fn();
      await settle();
    }
    this.current = until;
    await settle();
  }
}

/** Lets queued promise callbacks run (several turns, for chains of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
