import type { Redis } from 'ioredis';
import type { Clock, Logger } from '../engine/index.js';
import { systemClock, silentLogger } from '../engine/index.js';
import { withTimeout } from './with-timeout.js';

export interface ThrottleDecision {
  readonly blocked: boolean;
  /** Whole seconds until the window ends; 0 when not blocked. */
  readonly retryAfterSeconds: number;
}

/** Counts failed credentials per client and says when a client must wait. */
export interface FailureThrottle {
  check(client: string): Promise<ThrottleDecision>;
  recordFailure(client: string): Promise<ThrottleDecision>;
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

// Fixed window from the first failure: INCR, and set the expiry only when the key is new.
const RECORD_SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;
const CHECK_SCRIPT = `return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}`;

interface Window {
  count: number;
  resetAtMs: number;
}

/**
 * Brute-force throttling for credential checks: `maxFailures` failures within `windowMs` from one
 * client make its next attempts wait (429 + Retry-After) until the window ends. Counted in Redis
 * so the limit holds across instances, and always also in process, so it still holds per
 * instance when Redis is down or slow (each Redis call is bounded by `redisTimeoutMs`).
 */
export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const {
    redis,
    maxFailures = 10,
    windowMs = 10 * 60_000,
    redisTimeoutMs = 250,
    keyPrefix = 'admin-auth-failures:',
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

  function bumpLocal(client: string): Window {
    const w = localWindow(client) ?? { count: 0, resetAtMs: clock.now() + windowMs };
    w.count++;
    local.delete(client); // re-insert: Map order is then least recently failed first
    local.set(client, w);
    if (local.size > maxLocalClients) {
      const now = clock.now();
      for (const [k, v] of local) if (v.resetAtMs <= now) local.delete(k);
      for (const k of local.keys()) {
        if (local.size <= maxLocalClients) break;
        local.delete(k);
      }
    }
    return w;
  }

  async function remote(script: string, client: string, ...args: (string | number)[]): Promise<Window | undefined> {
    try {
      const reply = (await withTimeout(redis.eval(script, 1, keyPrefix + client, ...args), redisTimeoutMs, clock)) as [number, number];
      if (redisDown) logger.info({ event: 'throttle.redis_recovered' }, 'Failure throttle is counting in Redis again');
      redisDown = false;
      const [count, pttlMs] = reply;
      return { count: Number(count), resetAtMs: clock.now() + Math.max(0, Number(pttlMs)) };
    } catch (err) {
      if (!redisDown) {
        logger.warn(
          { event: 'throttle.redis_unavailable', code: codeOf(err) },
          'Failure throttle cannot reach Redis; counting per instance',
        );
      }
      redisDown = true;
      return undefined;
    }
  }

  function decide(...windows: (Window | undefined)[]): ThrottleDecision {
    const now = clock.now();
    let blockedUntil = 0;
    for (const w of windows) {
      if (w !== undefined && w.count >= maxFailures && w.resetAtMs > now) blockedUntil = Math.max(blockedUntil, w.resetAtMs);
    }
    if (blockedUntil === 0) return { blocked: false, retryAfterSeconds: 0 };
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((blockedUntil - now) / 1000)) };
  }

  return {
    async check(client) {
      const mine = localWindow(client);
      // Already blocked here: no need to ask Redis.
      if (mine !== undefined && mine.count >= maxFailures) return decide(mine);
      return decide(mine, await remote(CHECK_SCRIPT, client));
    },
    async recordFailure(client) {
      const mine = bumpLocal(client);
      return decide(mine, await remote(RECORD_SCRIPT, client, windowMs));
    },
  };
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  return typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'UnknownError';
}
