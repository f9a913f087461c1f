import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/engine/clock.js';

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
