export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** 1 s doubling to 5 min: about ten attempts in a five-minute outage. */
export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, capMs: 300_000 };

/**
 * Delay before retry number `failures` (1 after the first failure): exponential with a cap and
 * "equal jitter" (half fixed, half random), so instances that failed together do not retry in
 * lockstep, yet no retry comes sooner than half the nominal delay.
 */
export function backoffDelayMs(policy: BackoffPolicy, failures: number, random: () => number): number {
  const nominal = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/** When the next scheduled refresh falls: uniformly across [ttl/2, ttl], so a fleet spreads out. */
export function jitteredRefreshDelayMs(ttlMs: number, random: () => number): number {
  return Math.round(ttlMs / 2 + random() * (ttlMs / 2));
}
