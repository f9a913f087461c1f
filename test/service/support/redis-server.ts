import { Redis } from 'ioredis';
import { suiteServerUrl } from './suite-server-url.js';
import type { ThrowawayRedis } from './throwaway-redis.js';

export { startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.js';

/**
 * The suite's own redis-server, started by the global setup (test/support/global-setup.ts) for this
 * run: never the machine's. Tests that share it use keys and channels unique to them.
 */
export const SHARED_REDIS_URL = suiteServerUrl('TEST_REDIS_URL');

/** Resolves once the client can take commands (ours fail at once while disconnected). */
export async function whenRedisReady(client: Redis, timeoutMs = 30_000): Promise<void> {
  if (client.status === 'ready') return;
  // Not events.once: it rejects on the first 'error', and on a loaded machine the connection's
  // ready check can time out once before ioredis reconnects and becomes ready.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    function onReady(): void {
      clearTimeout(timer);
      resolve();
    }
    client.once('ready', onReady);
  });
}

/**
 * Runs one command as the default user of a throwaway Redis started with `password` (its admin):
 * for ACL changes, as an operator or a rotation would make them.
 */
export async function redisAdminCommand(server: ThrowawayRedis, adminPassword: string, command: string, ...args: string[]): Promise<unknown> {
  const admin = new Redis(server.port, '127.0.0.1', { password: adminPassword, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  admin.on('error', () => {});
  try {
    await admin.connect();
    return await admin.call(command, ...args);
  } finally {
    admin.disconnect();
  }
}

/**
 * An ACL user with full access and the given passwords added (`>pw`) and removed (`<pw`), as
 * `secrets rotate redis-password` does. Created on first use.
 */
export async function setAclUser(server: ThrowawayRedis, adminPassword: string, user: string, change: { add?: string[]; remove?: string[] }): Promise<void> {
  const rules = [...(change.add ?? []).map((p) => `>${p}`), ...(change.remove ?? []).map((p) => `<${p}`)];
  await redisAdminCommand(server, adminPassword, 'ACL', 'SETUSER', user, 'on', '~*', '&*', '+@all', ...rules);
}

/** A redis:// URL for an ACL user of a throwaway Redis. */
export function aclUserUrl(server: ThrowawayRedis, user: string, password: string, db = 0): string {
  return `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${db}`;
}

/** Whether a login with this URL gets in: false when Redis refuses its credentials; any other failure throws. */
export async function redisLogsIn(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // ioredis rejects a refused login with "Connection is closed" and reports why as an event.
  let reason = '';
  client.on('error', (err) => (reason ||= err.message));
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (err) {
    if (/^WRONGPASS/.test(reason)) return false;
    throw err;
  } finally {
    client.disconnect();
  }
}
