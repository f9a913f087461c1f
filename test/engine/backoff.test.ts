import { describe, expect, it } from 'vitest';
import { backoffDelayMs, defaultBackoff, jitteredRefreshDelayMs, startupBackoff } from '../../src/engine/backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from the base to the cap, with equal jitter between half and all of the nominal delay', () => {
    const policy = { baseMs: 1_000, capMs: 8_000 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelayMs(policy, n, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(policy, n, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect(backoffDelayMs(policy, 2, () => 0.5)).toBe(1_500);
    expect(backoffDelayMs(policy, 0, () => 1)).toBe(1_000);
  });

  it('retries background refreshes every 10-20 s, at most one attempt per 10 s however long the outage', () => {
    for (const failures of [1, 2, 3, 10, 1_000]) {
      expect(backoffDelayMs(defaultBackoff, failures, () => 0)).toBe(10_000);
      expect(backoffDelayMs(defaultBackoff, failures, () => 1)).toBe(20_000);
    }
  });

  it('retries start-up from 0.5-1 s up to 4-8 s', () => {
    expect(backoffDelayMs(startupBackoff, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(startupBackoff, 10, () => 1)).toBe(8_000);
  });
});

describe('jitteredRefreshDelayMs', () => {
  it('falls across [TTL/2, TTL]', () => {
    expect(jitteredRefreshDelayMs(60_000, () => 0)).toBe(30_000);
    expect(jitteredRefreshDelayMs(60_000, () => 1)).toBe(60_000);
    expect(jitteredRefreshDelayMs(60_000, () => 0.5)).toBe(45_000);
  });
});
