import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../../..');

export interface ServiceProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Polls GET /healthz until `accept` likes the body, or fails after `timeoutMs`. */
  waitForHealth(accept?: (body: { status: string; services: Record<string, { status: string }> }) => boolean, timeoutMs?: number): Promise<unknown>;
  /** SIGTERM to the whole process group (npm and tsx wrappers included), then SIGKILL if it lingers. */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  readonly port: number;
  /** The child's whole environment besides PATH and HOME: nothing leaks in from the test runner. */
  readonly env: Record<string, string>;
  readonly args?: readonly string[];
  /** `npm run dev`, the README way; otherwise `node --import tsx src/service/main.ts`. */
  readonly viaNpm?: boolean;
  /** What node runs instead of the source entry, e.g. ['dist/service/main.js'] for the build. */
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
}

export function spawnService(options: SpawnOptions): ServiceProcess {
  const { port, env, args = [], viaNpm = false, cwd = REPO } = options;
  const nodeArgs = options.nodeArgs ?? ['--import', 'tsx', join(REPO, 'src/service/main.ts'), ...args];
  const command = viaNpm ? ['npm', ['run', '--silent', 'dev']] : [process.execPath, nodeArgs];
  const proc = spawn(command[0] as string, command[1] as string[], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const url = `http://127.0.0.1:${port}`;
  return {
    proc,
    port,
    url,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForHealth(accept = (b) => b.status === 'ok', timeoutMs = 20_000) {
      const started = Date.now();
      let last: unknown;
      while (Date.now() - started < timeoutMs) {
        if (proc.exitCode !== null) throw new Error(`service exited ${proc.exitCode}: ${err}`);
        try {
          const res = await fetch(`${url}/healthz`);
          last = await res.json();
          if (accept(last as never)) return last;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`service not healthy in time; last: ${JSON.stringify(last)}; stderr: ${err}`);
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      process.kill(-proc.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // gone already
        }
      }, 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
