import { describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, systemClock } from '../../src/engine/clock.js';

describe('systemClock', () => {
  it('tells the time in milliseconds since the epoch', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('runs a timer (a negative delay as zero) and can cancel one', async () => {
    const fired: string[] = [];
    const cancelled = systemClock.setTimeout(() => fired.push('cancelled'), 0);
    cancelled.cancel();
    await new Promise<void>((resolve) => systemClock.setTimeout(() => resolve(), -5));
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    expect(fired).toEqual([]);
  });

  it('never keeps the process alive on its own', () => {
    // Node lists the resources that keep the event loop alive; an unref'd timer is not one.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const handle = systemClock.setTimeout(() => {}, 60_000);
    const during = timers();
    handle.cancel();
    expect(during).toBe(before);
  });

  it('keeps the process alive for a timer that asks to', () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const handle = systemClock.setTimeout(() => {}, 60_000, { keepAlive: true });
    const during = timers();
    handle.cancel();
    expect(during).toBe(before + 1);
  });
});

describe('systemClock with a delay past what one Node timer can wait', () => {
  it('neither warns TimeoutOverflowWarning nor runs the callback early for a 60-day delay', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    let fired = false;
    const handle = systemClock.setTimeout(() => (fired = true), 60 * 86_400_000);
    // An overflowing delay becomes 1 ms: a 5 ms timer set after it fires after it. The warning is
    // emitted on the next tick, before any timer.
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    handle.cancel();
    process.off('warning', onWarning);

    expect(fired).toBe(false);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('chains timers of at most 2^31-1 ms each and runs the callback once the whole delay has passed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let fired = 0;
      systemClock.setTimeout(() => fired++, 3 * MAX_TIMER_DELAY_MS + 7);
      await vi.advanceTimersByTimeAsync(3 * MAX_TIMER_DELAY_MS + 6);
      const before = fired;
      await vi.advanceTimersByTimeAsync(1);
      expect([before, fired]).toEqual([0, 1]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('cancels a chained timer between two links', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let fired = 0;
      const handle = systemClock.setTimeout(() => fired++, 2 * MAX_TIMER_DELAY_MS);
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS + 1);
      handle.cancel();
      await vi.advanceTimersByTimeAsync(2 * MAX_TIMER_DELAY_MS);
      expect(fired).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
