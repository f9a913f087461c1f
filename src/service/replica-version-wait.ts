import type { BackoffPolicy, Clock, Logger, RefreshOutcome, TimerHandle } from '../engine/index.js';
import { backoffDelayMs } from '../engine/index.js';

/**
 * How long a refresh notice's version is waited for in a replica region: Secrets Manager
 * replicates within seconds; past a minute the replica is taken to be stuck, the wait ends with a
 * warning, and the version arrives with the next scheduled refresh (or the primary's return).
 */
export const DEFAULT_REPLICA_LAG_BOUND_MS = 60_000;
/** Retries 0.5-1 s after the first miss, doubling to 4-8 s. */
export const REPLICA_RETRY_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 8_000 };

export interface ReplicaVersionWaitOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** Asks for another refresh of these names (the notice path, with its own rate limit). */
  readonly retry: (names: readonly string[]) => void;
  /** The version the engine holds now for a secret. */
  readonly held: (name: string) => string | null | undefined;
  readonly boundMs?: number;
  readonly backoff?: BackoffPolicy;
}

export interface ReplicaVersionWait {
  /** A notice named these versions (catalog name -> version id). */
  expect(versions: Readonly<Record<string, string>>): void;
  /** A notice-driven refresh of `names` ended with `outcome`. */
  settled(names: readonly string[], outcome: RefreshOutcome): void;
  close(): void;
}

interface Awaited {
  readonly versionId: string;
  readonly sinceMs: number;
  misses: number;
}

/**
 * A refresh notice names a new version; while a replica region serves (the primary failed), the
 * replica may not hold that version yet (replication lag). Each such secret is refreshed again
 * with backoff until the replica answers with the version, something else settles it (the
 * primary answered: it is the truth), or the bound passes. Names and version ids only.
 */
export function createReplicaVersionWait(options: ReplicaVersionWaitOptions): ReplicaVersionWait {
  const { clock, random, logger, retry, held, boundMs = DEFAULT_REPLICA_LAG_BOUND_MS, backoff = REPLICA_RETRY_BACKOFF } = options;
  const awaited = new Map<string, Awaited>();
  const timers = new Set<TimerHandle>();
  let closed = false;

  return {
    expect(versions) {
      if (closed) return;
      for (const [name, versionId] of Object.entries(versions)) {
        if (awaited.get(name)?.versionId !== versionId) awaited.set(name, { versionId, sinceMs: clock.now(), misses: 0 });
      }
    },

    settled(names, outcome) {
      // A refresh that failed says nothing of the replica's lag: the notice path retries failures
      // itself, within its budget; asking again here too would add to a throttled store's load.
      if (closed || !outcome.ok) return;
      const missing: string[] = [];
      for (const name of names) {
        const wanted = awaited.get(name);
        if (wanted === undefined) continue;
        const have = outcome.changed.find((c) => c.name === name)?.versionId ?? held(name);
        // Found, or answered by the primary (a version it no longer calls current was superseded).
        if (have === wanted.versionId || outcome.servedByReplica !== true) {
          awaited.delete(name);
          continue;
        }
        if (clock.now() - wanted.sinceMs >= boundMs) {
          awaited.delete(name);
          logger.warn(
            { event: 'secrets.replica_version_missing', name, versionId: wanted.versionId, region: outcome.region ?? null, waitedMs: clock.now() - wanted.sinceMs },
            'The replica region still lacks the version a notice named; it arrives with a later refresh',
          );
          continue;
        }
        wanted.misses++;
        missing.push(name);
      }
      if (missing.length === 0) return;
      const misses = Math.max(...missing.map((n) => awaited.get(n)!.misses));
      const delayMs = backoffDelayMs(backoff, misses, random);
      logger.info({ event: 'secrets.replica_version_wait', names: missing, retryInMs: delayMs }, 'Waiting for a replica region to receive a new version');
      const timer = clock.setTimeout(() => {
        timers.delete(timer);
        if (!closed) retry(missing);
      }, delayMs);
      timers.add(timer);
    },

    close() {
      closed = true;
      for (const timer of timers) timer.cancel();
      timers.clear();
      awaited.clear();
    },
  };
}
