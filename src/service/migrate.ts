import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { ClientBase } from 'pg';
import type { Logger } from '../engine/index.js';
import { silentLogger } from '../engine/index.js';

/**
 * The repository's `migrations/` folder. Two levels up from this module both in the source tree
 * (src/service/) and in the build (dist/service/), so `tsx` and `node dist/...` find the same files.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface MigrateOptions {
  readonly dir?: string;
  readonly logger?: Logger;
}

/**
 * Applies every pending migration (plain SQL files, node-pg-migrate's format) in one transaction,
 * under node-pg-migrate's advisory lock: when several instances start at once, one migrates and
 * the others fail fast and retry (our caller's loop), never running a migration twice.
 * Returns the names of the migrations applied now.
 */
export async function runMigrations(client: ClientBase, options: MigrateOptions = {}): Promise<string[]> {
  const { dir = MIGRATIONS_DIR, logger = silentLogger } = options;
  const ran = await runner({
    dbClient: client,
    dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'fail',
    logger: {
      debug: (msg) => logger.debug({ event: 'database.migrations' }, msg),
      info: (msg) => logger.debug({ event: 'database.migrations' }, msg),
      warn: (msg) => logger.warn({ event: 'database.migrations' }, msg),
      error: (msg) => logger.error({ event: 'database.migrations' }, msg),
    },
  });
  return ran.map((m) => m.name);
}
