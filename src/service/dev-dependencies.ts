import { dirname, join, relative, sep } from 'node:path';
import type { Logger } from '../engine/index.js';
import { defaultLocalTarget, type LocalTarget } from './default-local-target.js';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres.js';
import { readSettingsFile } from './settings-file.js';
import { probeTcp, type TcpProbeResult } from './tcp-probe.js';
import { driverErrorCode } from '../engine/index.js';

/** The git-ignored folder, beside the `.env`, where `npm run dev` keeps the embedded PostgreSQL's data. */
export const DEV_DATA_DIR = '.dev-data';

export interface DevDependenciesOptions {
  /** The `.env` the service reads; the data folder goes beside it. */
  readonly envFile: string;
  /**
   * The DATABASE_URL `npm run dev` writes into a new .env (see bootstrapValue): an embedded
   * PostgreSQL stands in only for exactly that URL. Any other, even one that looks local (a typo
   * in the port), is the operator's: where nothing answers it is reported down, never stood in for.
   */
  readonly bootstrapDatabaseUrl: string;
  /** The process environment: a DATABASE_URL or REDIS_URL set there is explicit, never stood in for. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Folder for display of the data folder's path (relative when inside it). */
  readonly cwd?: string;
  readonly probe?: (host: string, port: number) => Promise<TcpProbeResult>;
  readonly startPostgres?: typeof startEmbeddedPostgres;
}

export interface DevDependencies {
  /** No Redis: run alone (throttle in memory, no refresh push to or from other instances). */
  readonly singleInstance: boolean;
  /** Whether an embedded PostgreSQL was started. */
  readonly embeddedPostgres: boolean;
  /** Stops what was started here; call after the database pool is closed. */
  stop(): Promise<void>;
}

/**
 * `npm run dev` on a machine with nothing but Node. Only for a DATABASE_URL / REDIS_URL given by
 * default (see default-local-target.ts) and only when nothing listens at its address:
 *
 * - PostgreSQL: starts an embedded one at exactly that address, its data in `.dev-data/postgres`
 *   beside the `.env` (kept, so a restart finds the salons and webhook events again). The URL is
 *   unchanged: it is true again. If it cannot start, the service runs without a database as before.
 * - Redis: none is started; the service runs as a single instance.
 *
 * Each says so in one log line. The caller (the entry) calls this only in dev mode with the
 * `.env` source: production and AWS mode never embed anything.
 */
export async function startDevDependencies(options: DevDependenciesOptions): Promise<DevDependencies> {
  const { envFile, env, logger, cwd = process.cwd(), probe = probeTcp, startPostgres = startEmbeddedPostgres, bootstrapDatabaseUrl } = options;
  const fileSettings = await readSettingsFile(envFile);
  const database = defaultLocalTarget('DATABASE_URL', fileSettings, env);
  const redis = defaultLocalTarget('REDIS_URL', fileSettings, env);
  const [databaseMissing, redisMissing] = await Promise.all([missing(database, probe), missing(redis, probe)]);
  const written = fileSettings.DATABASE_URL?.trim() === bootstrapDatabaseUrl;

  let postgres: RunningPostgres | undefined;
  if (database !== undefined && databaseMissing && !written) {
    const expected = defaultLocalTarget('DATABASE_URL', { DATABASE_URL: bootstrapDatabaseUrl }, {});
    logger.warn(
      { event: 'database.not_embedded', host: database.host, port: database.port },
      `No PostgreSQL at ${address(database)} (DATABASE_URL in the .env): npm run dev starts an embedded PostgreSQL only for the DATABASE_URL it wrote itself` +
        `${expected === undefined ? '' : ` (${address(expected)})`}; start PostgreSQL at ${address(database)} or correct DATABASE_URL`,
    );
  } else if (database !== undefined && databaseMissing) {
    const dataDir = join(dirname(envFile), DEV_DATA_DIR, 'postgres');
    const shown = display(dataDir, cwd);
    try {
      postgres = await startPostgres({ host: database.host, port: database.port, dataDir });
      logger.info(
        { event: 'database.embedded_started', host: database.host, port: database.port, dataDir: shown, created: postgres.created, majorVersion: postgres.majorVersion },
        `No PostgreSQL at ${address(database)}: started an embedded PostgreSQL ${postgres.majorVersion} there, data in ${shown} (${postgres.created ? 'created now' : 'kept from the last run'})`,
      );
    } catch (err) {
      logger.warn(
        { event: 'database.embedded_failed', host: database.host, port: database.port, code: driverErrorCode(err) },
        `No PostgreSQL at ${address(database)}, and ${(err as Error).message}; start PostgreSQL there or set DATABASE_URL (the service retries in the background)`,
      );
    }
  }

  const singleInstance = redis !== undefined && redisMissing;
  if (singleInstance) {
    logger.info(
      { event: 'redis.single_instance', host: redis.host, port: redis.port },
      `No Redis at ${address(redis)}: running as a single instance (admin throttle counted in memory; refresh push to other instances is off until Redis runs there and the service restarts)`,
    );
  }

  return {
    singleInstance,
    embeddedPostgres: postgres !== undefined,
    stop: async () => {
      await postgres?.stop();
    },
  };
}

async function missing(target: LocalTarget | undefined, probe: (host: string, port: number) => Promise<TcpProbeResult>): Promise<boolean> {
  return target !== undefined && (await probe(target.host, target.port)) === 'refused';
}

function address(target: LocalTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : path;
}
