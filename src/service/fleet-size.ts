import type { Redis } from 'ioredis';
import type { Clock, Logger } from '../engine/index.js';
import { driverErrorCode, silentLogger, systemClock, withDeadline } from '../engine/index.js';

/**
 * How long a counted fleet size is trusted. Fleets grow and shrink over minutes (a deploy, an
 * autoscaling step); a notice that arrives later counts again, so a deploy of thousands of
 * instances is seen within this long.
 */
export const DEFAULT_FLEET_SIZE_MAX_AGE_MS = 30_000;

/** The number of service instances, for sizing fleet-wide bursts: at least 1 (this instance). */
export interface FleetSize {
  /** The last count if it is younger than the max age, else a new count (the last one if that fails). */
  size(): Promise<number>;
  /** A count learnt for free, e.g. the receivers PUBLISH reported. */
  observe(count: number): void;
}

export interface FleetSizeOptions {
  /** A command connection: PUBSUB NUMSUB cannot run on a subscribed one. */
  readonly redis: Pick<Redis, 'pubsub'>;
  /** The refresh channel: every instance keeps exactly one subscription to it. */
  readonly channel: string;
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * The fleet's size without configuration: every instance subscribes to the refresh channel once,
 * so `PUBSUB NUMSUB <channel>` counts the instances. Asked only when a count is needed and the
 * last is older than `maxAgeMs` (one O(1) command per instance per notice burst), never more than
 * one at a time; when Redis does not answer in `timeoutMs` the last count stands (1 before any:
 * today's floor spread, not a guess).
 */
export function createFleetSize(options: FleetSizeOptions): FleetSize {
  const { redis, channel, maxAgeMs = DEFAULT_FLEET_SIZE_MAX_AGE_MS, timeoutMs = 500, clock = systemClock, logger = silentLogger } = options;
  let known = 1;
  let countedAtMs = Number.NEGATIVE_INFINITY;
  let counting: Promise<number> | undefined;

  async function count(): Promise<number> {
    try {
      const reply = await withDeadline(redis.pubsub('NUMSUB', channel), { timeoutMs, clock });
      const n = Number(reply[1]);
      if (Number.isInteger(n) && n >= 0) {
        known = Math.max(1, n);
        countedAtMs = clock.now();
      }
    } catch (err) {
      logger.warn({ event: 'secrets.fleet_size_unknown', code: driverErrorCode(err), assumed: known }, 'Could not count the fleet; using the last count');
    }
    return known;
  }

  return {
    size() {
      if (clock.now() - countedAtMs < maxAgeMs) return Promise.resolve(known);
      counting ??= count().finally(() => (counting = undefined));
      return counting;
    },
    observe(n) {
      if (!Number.isInteger(n) || n < 1) return;
      known = n;
      countedAtMs = clock.now();
    },
  };
}

/** A fleet of one: the spread stays at its floor (the default when no Redis is there to count). */
export const SINGLE_INSTANCE_FLEET: FleetSize = { size: () => Promise.resolve(1), observe: () => {} };
