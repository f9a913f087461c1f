/**
 * What the HTTP benchmarks share: a throwaway database name on the local PostgreSQL, dropped at
 * the end, and the secrets bench/http-server.ts starts the service with (fresh random values;
 * never printed).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BENCH_POSTGRES, BENCH_REDIS } from './quick.js';


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
    OPENAI_API_KEY: `sk-${randomBytes(24).toString('base64url')}`,
  };
}
