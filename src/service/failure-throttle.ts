import type { Redis } from 'ioredis';
import type { Clock, Logger } from '../engine/index.js';
import { driverErrorCode, silentLogger, systemClock, withDeadline } from '../engine/index.js';

export interface ThrottleDecision {
  readonly blocked: boolean;
  /** Whole seconds until the window ends; 0 when not blocked. */
  readonly retryAfterSeconds: number;
}

/** One attempt, counted before its credential is compared. */
export interface Reservation extends ThrottleDecision {
  /** Attempts counted for this client in the current window, this one included (capped at the limit). */
  readonly attempts: number;
  /** Attempts left in the window after this one: 0 means a wrong credential now locks the client out. */
  readonly remaining: number;
  /** Where it was counted: the shared Redis, or this instance's memory while Redis is unavailable. */
  readonly store: 'redis' | 'memory';
  /** When the window ends (ms since the epoch). */
  readonly windowEndsAtMs: number;
  /** Gives the attempt back: for a credential that turned out right. Never rejects. */
  release(): Promise<void>;
}

/**
 * Counts credential attempts per client and says when a client must wait. An attempt is
 * reserved atomically *before* the credential is compared, so concurrent requests cannot all see
 * "under the limit" and all be compared; a correct credential gives its reservation back.
 */
export interface FailureThrottle {
  /** Counts one attempt. `blocked` means: do not compare, answer 429. */
  reserve(client: string): Promise<Reservation>;
  /** Whether the client is locked out, counting nothing (for requests that present no credential). */
  peek(client: string): Promise<ThrottleDecision>;
  /** The Redis key holding a client's count: deleting it ends that client's lockout fleet-wide. */
  keyFor(client: string): string;
}

export interface FailureThrottleOptions {
  /** The shared counter store; counts hold across instances while it answers. */
  readonly redis: Pick<Redis, 'eval'>;
  readonly maxFailures?: number;
  readonly windowMs?: number;
  /** Deadline of one Redis call, whatever the client's own settings: a request never waits longer. */
  readonly redisTimeoutMs?: number;
  readonly keyPrefix?: string;
  /** Bound on the in-process table, so a flood of addresses cannot grow memory without limit. */
  readonly maxLocalClients?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export const DEFAULT_THROTTLE_KEY_PREFIX = 'admin-auth-failures:';

// One script, so the read and the increment are one atomic step in Redis: a client already at the
// limit is refused without counting further (the key then shows exactly how many were compared).
// The window is fixed from the first attempt: the expiry is set only when the key is new (or has
// somehow lost it).
const RESERVE_SCRIPT = `local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local counted = 0
if n < tonumber(ARGV[2]) then
  n = redis.call('INCR', KEYS[1])
  counted = 1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl, counted}`;
// A returned reservation; a count back at zero leaves no key behind.
const RELEASE_SCRIPT = `local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n`;
const PEEK_SCRIPT = `return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}`;

interface Window {
  count: number;
  resetAtMs: number;
}

/**
 * Brute-force throttling for credential checks: `maxFailures` attempts within `windowMs` from one
 * client, counted before comparison, and its next attempts wait (429 + Retry-After) until the
 * window ends. Counted in Redis (one atomic script per attempt) so the limit holds across the
 * fleet; while Redis is down or slow (each call bounded by `redisTimeoutMs`) each instance counts
 * in its own memory, so the limit then holds per instance.
 *
 * Hand-written rather than rate-limiter-flexible (whose Redis + insurance pair does the same):
 * that library reads the system clock and sets its own timers, and this service injects time
 * everywhere so tests drive windows with a fake clock.
 */
export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const {
    redis,
    maxFailures = 10,
    windowMs = 10 * 60_000,
    redisTimeoutMs = 250,
    keyPrefix = DEFAULT_THROTTLE_KEY_PREFIX,
    maxLocalClients = 10_000,
    clock = systemClock,
    logger = silentLogger,
  } = options;
  const local = new Map<string, Window>();
  let redisDown = false;

  function localWindow(client: string): Window | undefined {
    const w = local.get(client);
    if (w !== undefined && w.resetAtMs <= clock.now()) {
      local.delete(client);
      return undefined;
    }
    return w;
  }

  /** Synchronous: between the read and the write no other request can run. */
  function reserveLocal(client: string): { window: Window; counted: boolean } {
    const w = localWindow(client) ?? { count: 0, resetAtMs: clock.now() + windowMs };
    const counted = w.count < maxFailures;
    if (counted) w.count++;
    local.delete(client); // re-insert: Map order is then least recently seen first
    local.set(client, w);
    if (local.size > maxLocalClients) {
      const now = clock.now();
      for (const [k, v] of local) if (v.resetAtMs <= now) local.delete(k);
      for (const k of local.keys()) {
        if (local.size <= maxLocalClients) break;
        local.delete(k);
      }
    }
    return { window: w, counted };
  }

  async function remote(script: string, client: string, ...args: (string | number)[]): Promise<number[] | undefined> {
    try {
      const reply = (await withDeadline(redis.eval(script, 1, keyPrefix + client, ...args), { timeoutMs: redisTimeoutMs, clock })) as number | number[];
      if (redisDown) logger.info({ event: 'throttle.redis_recovered' }, 'Failure throttle is counting in Redis again');
      redisDown = false;
      return (Array.isArray(reply) ? reply : [reply]).map(Number);
    } catch (err) {
      if (!redisDown) {
        logger.warn(
          { event: 'throttle.redis_unavailable', code: driverErrorCode(err) },
          'Failure throttle cannot reach Redis; counting per instance',
        );
      }
      redisDown = true;
      return undefined;
    }
  }

  function decision(blocked: boolean, resetAtMs: number): ThrottleDecision {
    if (!blocked) return { blocked: false, retryAfterSeconds: 0 };
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((resetAtMs - clock.now()) / 1000)) };
  }

  return {
    async reserve(client) {
      const reply = await remote(RESERVE_SCRIPT, client, windowMs, maxFailures);
      if (reply !== undefined) {
        const [count = 0, pttlMs = windowMs, counted = 0] = reply;
        const windowEndsAtMs = clock.now() + Math.max(0, pttlMs);
        let released = false;
        return {
          ...decision(counted !== 1, windowEndsAtMs),
          attempts: count,
          remaining: Math.max(0, maxFailures - count),
          store: 'redis',
          windowEndsAtMs,
          release: async () => {
            if (counted !== 1 || released) return;
            released = true;
            await remote(RELEASE_SCRIPT, client);
          },
        };
      }
      const { window, counted } = reserveLocal(client);
      let released = false;
      return {
        ...decision(!counted, window.resetAtMs),
        attempts: window.count,
        remaining: Math.max(0, maxFailures - window.count),
        store: 'memory',
        windowEndsAtMs: window.resetAtMs,
        release: async () => {
          if (!counted || released) return;
          released = true;
          window.count = Math.max(0, window.count - 1);
        },
      };
    },
    async peek(client) {
      const reply = await remote(PEEK_SCRIPT, client);
      if (reply !== undefined) {
        const [count = 0, pttlMs = 0] = reply;
        return decision(count >= maxFailures && pttlMs > 0, clock.now() + pttlMs);
      }
      const w = localWindow(client);
      return decision(w !== undefined && w.count >= maxFailures, w?.resetAtMs ?? 0);
    },
    keyFor: (client) => keyPrefix + client,
  };
}
