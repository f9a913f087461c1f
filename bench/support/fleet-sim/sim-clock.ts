import type { Clock, TimerHandle } from '../../../src/engine/clock.js';

interface Timer {
  readonly atMs: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

/**
 * The simulation's clock: the engine's Clock interface over a binary heap of timers, so a hundred
 * thousand engines' timers cost O(log n) each (test/support/fake-clock.ts scans them all per
 * step). Time moves only in `runUntil`: all timers due at one millisecond fire, then every
 * promise chain they started settles (one macrotask turn drains the microtask queue) before the
 * clock moves on. Nothing in the simulated world does real I/O, so that is all there is to wait for.
 */
export class SimClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap: Timer[] = [];

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: Timer = { atMs: this.current + Math.max(0, Math.round(delayMs)), seq: ++this.seq, fn };
    this.push(timer);
    return { cancel: () => (timer.fn = undefined) };
  }

  /** Runs timers in due order until `untilMs`, or until `done()` holds after a millisecond's timers. */
  async runUntil(untilMs: number, done: () => boolean = () => false): Promise<void> {
    await turn();
    while (!done()) {
      const next = this.heap[0];
      if (next === undefined || next.atMs > untilMs) break;
      this.current = next.atMs;
      while (this.heap[0] !== undefined && this.heap[0].atMs === this.current) {
        const timer = this.pop()!;
        const fn = timer.fn;
        timer.fn = undefined;
        fn?.();
      }
      await turn();
    }
    if (!done()) this.current = Math.max(this.current, untilMs);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
    return top;
  }
}

const before = (a: Timer, b: Timer) => a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
