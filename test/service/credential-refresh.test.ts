import { describe, expect, it } from 'vitest';
import { createCoalescedRefresh } from '../../src/service/credential-refresh.js';
import { FakeClock, settle } from '../support/fake-clock.js';

function setup(minIntervalMs = 2_000) {
  const clock = new FakeClock();
  const runs: Array<{ at: number; finish: () => void }> = [];
  const refresh = createCoalescedRefresh({
    clock,
    minIntervalMs,
    run: () => new Promise<void>((resolve) => runs.push({ at: clock.now(), finish: resolve })),
  });
  return { clock, runs, refresh };
}

describe('coalesced credential refresh', () => {
  it('runs one refresh for many connections failing at once', async () => {
    const { runs, refresh } = setup();

    const waits = Array.from({ length: 50 }, () => refresh.refresh());
    await settle();
    runs[0]!.finish();
    await Promise.all(waits);

    expect(runs).toHaveLength(1);
  });

  it('defers a request within the interval to one trailing refresh at its end', async () => {
    const { clock, runs, refresh } = setup(2_000);
    const first = refresh.refresh();
    await settle();
    runs[0]!.finish();
    await first;
    await clock.advance(500);

    let settled = 0;
    const later = [refresh.refresh(), refresh.refresh()].map((p) => p.then(() => settled++));
    await clock.advance(1_000);
    expect(runs).toHaveLength(1);
    expect(settled).toBe(0);

    await clock.advance(500);
    expect(runs.map((r) => r.at - runs[0]!.at)).toEqual([0, 2_000]);
    runs[1]!.finish();
    await Promise.all(later);
    expect(settled).toBe(2);
  });

  it('starts at once when the interval has passed', async () => {
    const { clock, runs, refresh } = setup(2_000);
    const first = refresh.refresh();
    await settle();
    runs[0]!.finish();
    await first;
    await clock.advance(2_000);

    void refresh.refresh();
    await settle();

    expect(runs).toHaveLength(2);
  });

  it('never rejects when the refresh fails', async () => {
    const clock = new FakeClock();
    const refresh = createCoalescedRefresh({ clock, run: () => Promise.reject(new Error('store down')) });

    await expect(refresh.refresh()).resolves.toBeUndefined();
  });
});
