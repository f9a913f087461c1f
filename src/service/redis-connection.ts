import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../engine/index.js';

/**
 * Options for the command connection (throttling, health, publishing). Redis must never hold a
 * request: while disconnected a command fails at once (no offline queue, no per-request
 * retries) and a connected but silent server times out. Reconnects forever, backing off to 2 s.
 */
export const REDIS_CLIENT_OPTIONS: RedisOptions = {
  connectTimeout: 1_000,
  commandTimeout: 500,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: (times) => Math.min(times * 200, 2_000),
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
  retryStrategy: (times) => Math.min(times * 200, 2_000),
};

/**
 * Logs a Redis connection's transitions once each (down at warn, back at info) instead of every
 * reconnect attempt, and keeps ioredis from printing unhandled 'error' events.
 */
export function watchRedisConnection(client: Redis, name: string, logger: Logger): void {
  let down = false;
  client.on('error', (err: { code?: unknown; name?: unknown }) => {
    if (down) return;
    down = true;
    const code = typeof err.code === 'string' ? err.code : typeof err.name === 'string' ? err.name : 'UnknownError';
    logger.warn({ event: 'redis.unavailable', connection: name, code }, 'Redis unavailable; reconnecting in the background');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ event: 'redis.recovered', connection: name }, 'Redis connection is back');
  });
}
