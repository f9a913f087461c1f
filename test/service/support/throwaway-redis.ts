import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

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
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore', cwd: tmpdir() });
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
