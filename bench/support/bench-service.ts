/**
 * What the HTTP benchmarks share: a throwaway database name on the local PostgreSQL, dropped at
 * the end, and the secrets bench/http-server.ts starts the service with (fresh random values;
 * never printed).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The local PostgreSQL (trust authentication), as on the development machines; under `npm test`
 * (a smoke run of a benchmark) the suite's own server, which its global setup passes as
 * TEST_POSTGRES_URL.
 */
export const BENCH_POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';

/** The local Redis; BENCH_REDIS_URL chooses another, and under `npm test` it is the suite's own (TEST_REDIS_URL). */
export const BENCH_REDIS = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops it (and whatever is connected to it); never rejects. */
  drop(): Promise<void>;
}

/** A database name of this run's own; the service creates it at start-up. */
export function benchDatabase(prefix: string): BenchDatabase {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  return {
    name,
    url: `${BENCH_POSTGRES}/${name}`,
    async drop() {
      const c = new pg.Client({ connectionString: `${BENCH_POSTGRES}/postgres` });
      try {
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } catch {
        // a benchmark's clean-up must not hide its figures
      } finally {
        await c.end().catch(() => {});
      }
    },
  };
}

/** The catalog's required secrets for bench/http-server.ts, with fresh random tokens. */
export function benchSecrets(databaseUrl: string): Record<string, string> & { ADMIN_TOKEN: string; META_APP_SECRET: string } {
  return {
    ADMIN_TOKEN: randomBytes(48).toString('base64url'),
    META_VERIFY_TOKEN: randomBytes(48).toString('base64url'),
    META_APP_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: databaseUrl,
    REDIS_URL: BENCH_REDIS,
    OPENAI_API_KEY: 'sk-bench',
  };
}
