import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** The machine's Redis 7. Tests that share it use keys and channels unique to them. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  /** The running redis-server's process id (undefined while stopped): for signals of a test's own (SIGSTOP, SIGKILL). */
  readonly pid: number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGSTOP: connected but silent, the worst case for a client without timeouts. */
  pause(): void;
  resume(): void;
}

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

/** A redis-server of its own on a free port (no persistence), for "Redis down" tests. Started. */
export async function startThrowawayRedis(options: { password?: string } = {}): Promise<ThrowawayRedis> {
  const port = await freePort();
  const auth = options.password === undefined ? [] : ['--requirepass', options.password];
  let proc: ChildProcess | undefined;
  const server: ThrowawayRedis = {
    port,
    url: options.password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    get pid() {
      return proc === undefined || proc.exitCode !== null || proc.signalCode !== null ? undefined : proc.pid;
    },
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore' });
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(options.password !== undefined && { password: options.password }),
      });
      probe.on('error', () => {});
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          await probe.ping();
          probe.disconnect();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      probe.disconnect();
      throw new Error(`redis-server did not start on ${port}`);
    },
    async stop() {
      if (proc === undefined || proc.exitCode !== null) return;
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await once(proc, 'exit');
      proc = undefined;
    },
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
  };
  await server.start();
  return server;
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
