export interface BackoffPolicy {
  /** Nominal delay before the first retry; it doubles with each further failure... */
  readonly baseMs: number;
  /** ...up to this cap. */
  readonly capMs: number;
}

/**
 * Retries of background refreshes: every retry 10-20 s after a failure. The cap is what matters:
 * at 20 s (AWS's Java caching client caps there too) a store that comes back is seen within
 * 20 s plus one attempt, and the jitter's floor of half the nominal delay keeps an instance at
 * one attempt per 10 s at most through an outage, however long, and however many instances
 * failed at the same moment (a refresh notice during an outage makes the whole fleet fail at once).
 */
export const defaultBackoff: BackoffPolicy = { baseMs: 20_000, capMs: 20_000 };

/**
 * Retries at start-up, where nothing is served yet and every second counts: 0.5-1 s doubling to
 * 4-8 s, within the start-up deadline. The jitter spreads a fleet that a throttled deploy turned
 * away at the same moment.
 */
export const startupBackoff: BackoffPolicy = { baseMs: 1_000, capMs: 8_000 };

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
