import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { REPO } from '../../service/support/service-process.js';

export interface ScriptRun {
  readonly code: number | null;
  /** The signal that ended npm (a stop's SIGINT ends npm itself by that signal), else null. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ScriptOptions {
  /** The child's whole environment besides PATH and HOME: nothing leaks in from the test runner. */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Killed (the whole process group) after this long; the run then has code null. */
  readonly timeoutMs?: number;
}

/** A running `npm run -s <script>`, its own process group, so a stop reaches npm's children too. */
export interface RunningScript {
  output(): string;
  stdout(): string;
  readonly exited: Promise<ScriptRun>;
  /** SIGINT to the group, as Ctrl-C at a terminal; SIGKILL if it is still there after 10 s. */
  stop(): Promise<ScriptRun>;
}

/** `npm run -s <script> -- <args>` exactly as a reader types it, in the repository. */
export function startScript(script: string, args: readonly string[] = [], options: ScriptOptions = {}): RunningScript {
  const { env = {}, cwd = REPO, timeoutMs } = options;
  const proc = spawn('npm', ['run', '-s', script, ...(args.length > 0 ? ['--', ...args] : [])], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  proc.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), (output += d.toString())));
  proc.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), (output += d.toString())));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, signal);
    } catch {
      // gone already
    }
  };
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => kill('SIGKILL'), timeoutMs);
  const exited = once(proc, 'close').then(([code, signal]) => {
    clearTimeout(timer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  return {
    output: () => output,
    stdout: () => stdout,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) kill('SIGINT');
      const hard = setTimeout(() => kill('SIGKILL'), 10_000);
      const run = await exited;
      clearTimeout(hard);
      return run;
    },
  };
}

/** Runs `npm run -s <script> -- <args>` to its end. */
export function runScript(script: string, args: readonly string[] = [], options: ScriptOptions = {}): Promise<ScriptRun> {
  return startScript(script, args, options).exited;
}

/** GET /healthz's body, or undefined while nothing answers there. */
export async function healthz(url: string): Promise<{ status: string; services: Record<string, { status: string }> } | undefined> {
  try {
    return (await (await fetch(`${url}/healthz`)).json()) as never;
  } catch {
    return undefined;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A benchmark's quick mode, on the test's PostgreSQL server and Redis (see bench/support/quick.ts). */
export function quickBenchEnv(serverUrl: string, redisUrl: string): Record<string, string> {
  return { BENCH_QUICK: '1', BENCH_POSTGRES_URL: serverUrl, BENCH_REDIS_URL: redisUrl };
}

/** The rows of the first markdown table after `header` (a line of the output), cells trimmed. */
export function tableRows(output: string, header: RegExp): string[][] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split('|').map((c) => c.trim()));
  }
  return rows;
}
