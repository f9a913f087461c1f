import type { Redis, RedisOptions } from 'ioredis';
import type { BackoffPolicy, Logger } from '../engine/index.js';
import { backoffDelayMs } from '../engine/index.js';

/** Reconnects: 100-200 ms doubling to 1-2 s, jittered so a fleet that lost Redis together does not return in lockstep. */
const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 2_000 };

function reconnectDelayMs(times: number): number {
  return backoffDelayMs(RECONNECT_BACKOFF, times, Math.random);
}

/**
 * Options for the command connection (throttling, health, publishing). Redis must never hold a
 * request: while disconnected a command fails at once (no offline queue, no per-request
 * retries), and every caller on the request path bounds its own wait (the throttle 250 ms, health
 * 1 s, a refresh notice 500 ms) and carries on without Redis. The command timeout only clears
 * commands a connected but silent server never answers, so it sits well above the event-loop
 * stalls of a loaded host: at 500 ms it failed commands Redis had answered while the process was
 * busy (its timer runs before the reply is read). Reconnects forever, backing off to 2 s.
 */
export const REDIS_CLIENT_OPTIONS: RedisOptions = {
  connectTimeout: 1_000,
  commandTimeout: 5_000,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: reconnectDelayMs,
};

/**
 * Options for the subscriber connection (refresh notices). Off the request path, so its
 * SUBSCRIBE may wait for the connection; ioredis re-subscribes after every reconnect.
 */
export const REDIS_SUBSCRIBER_OPTIONS: RedisOptions = {
  connectTimeout: 1_000,
  maxRetriesPerRequest: null,
  enableOfflineQueue: true,
  autoResubscribe: true,
  retryStrategy: reconnectDelayMs,
};

/**
 * Logs a Redis connection's transitions once each (down at warn, back at info) instead of every
 * reconnect attempt, and keeps ioredis from printing unhandled 'error' events.
 */
export function watchRedisConnection(client: Redis, name: string, logger: Logger): void {
  let down = false;
  client.on('error', (err: { code?: unknown; name?: unknown; message?: unknown }) => {
    if (down) return;
    down = true;
    const authCode = typeof err.message === 'string' ? /^(WRONGPASS|NOAUTH)\b/.exec(err.message)?.[1] : undefined;
    const code = authCode ?? (typeof err.code === 'string' ? err.code : typeof err.name === 'string' ? err.name : 'UnknownError');
    logger.warn({ event: 'redis.unavailable', connection: name, code }, 'Redis unavailable; reconnecting in the background');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ event: 'redis.recovered', connection: name }, 'Redis connection is back');
  });
}

/** The connection fields of a REDIS_URL that ioredis reads each time it (re)connects. */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  readonly tls: boolean;
}

/**
 * Connection options for a REDIS_URL (`redis[s]://[user[:password]@]host[:port][/db]`, an ACL user
 * or the default user). Parsed here rather than by ioredis so a changed URL can be applied to a
 * live client. Errors name the setting, never the URL, which carries the password.
 */
export function redisTarget(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('REDIS_URL is not a valid URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new TypeError('REDIS_URL must use redis: or rediss:');
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new TypeError('REDIS_URL has an invalid database number');
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    db,
    tls: parsed.protocol === 'rediss:',
  };
}

/** ioredis options for a target, to spread over REDIS_CLIENT_OPTIONS or REDIS_SUBSCRIBER_OPTIONS. */
export function redisTargetOptions(target: RedisTarget): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    db: target.db,
    tls: target.tls ? {} : undefined,
  };
}

/** WRONGPASS (wrong user or password) and NOAUTH (none sent where one is required). */
export function isRedisAuthError(err: unknown): boolean {
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /^(WRONGPASS|NOAUTH)\b/.test(message);
}

function sameTarget(a: RedisTarget, b: RedisTarget): boolean {
  return a.host === b.host && a.port === b.port && a.username === b.username && a.password === b.password && a.db === b.db && a.tls === b.tls;
}

export interface RedisCredentialsOptions {
  /** The current REDIS_URL (the secrets engine's), read when the client must change. */
  readonly url: () => string;
  /** Asked to fetch REDIS_URL again when Redis refuses our credentials. */
  readonly credentials?: { refresh(): Promise<void> };
  readonly logger: Logger;
}

export interface RedisCredentials {
  /** Moves the client to the current URL if it differs from the one it uses (no restart needed). */
  apply(): void;
}

/**
 * Keeps a long-lived ioredis client on the current REDIS_URL. ioredis reads host, user and
 * password from `client.options` at every (re)connect, so a changed URL is applied by updating
 * those: the same client object stays in the hands of the throttle and the refresh broadcast.
 * A new password for the same user needs nothing more: an open connection stays logged in as
 * that user (Redis checks a password at AUTH only, and removing one logs nobody out), and the
 * next connection logs in with the new one, so a password rotation costs no reconnect, no
 * command fails and no refresh notice is missed. Another user, server or database is applied by
 * reconnecting (commands fail fast meanwhile, and the throttle counts per instance).
 * On WRONGPASS/NOAUTH it asks for the secret again; the retry strategy then reconnects with it.
 */
export function followRedisCredentials(client: Redis, name: string, options: RedisCredentialsOptions): RedisCredentials {
  const { url, credentials, logger } = options;
  let current = redisTarget(url());

  function apply(): void {
    let next: RedisTarget;
    try {
      next = redisTarget(url());
    } catch (err) {
      logger.error({ event: 'redis.url_invalid', connection: name, reason: (err as Error).message }, 'REDIS_URL cannot be used; keeping the current connection');
      return;
    }
    if (sameTarget(current, next)) return;
    const moved = current.host !== next.host || current.port !== next.port || current.db !== next.db || current.tls !== next.tls;
    const reconnect = moved || current.username !== next.username;
    current = next;
    Object.assign(client.options, redisTargetOptions(next));
    if (!reconnect) {
      logger.info({ event: 'redis.credentials_changed', connection: name, reconnect }, 'REDIS_URL password changed; the next connection logs in with it, the open one stays');
      return;
    }
    logger.info(
      { event: moved ? 'redis.url_changed' : 'redis.credentials_changed', connection: name, reconnect },
      moved ? 'REDIS_URL changed; reconnecting to the new server' : 'REDIS_URL user changed; reconnecting with it',
    );
    // A connection in the middle of reconnecting picks the new options up on its next attempt.
    if (client.status === 'ready' || client.status === 'connect') client.disconnect(true);
  }

  client.on('error', (err: unknown) => {
    if (!isRedisAuthError(err) || credentials === undefined) return;
    void credentials.refresh().then(apply);
  });
  return { apply };
}
