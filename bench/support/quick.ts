/**
 * Every benchmark's quick mode: BENCH_QUICK=1 runs each phase for a fraction of a second to a
 * couple of seconds, so the whole bench takes a few seconds. Its figures mean nothing; the smoke
 * runs in test/scripts check that the report keeps its shape (every row, every column).
 */
export const BENCH_QUICK = process.env.BENCH_QUICK === '1';

/** Seconds per measured phase: BENCH_SECONDS if set, else `quick` in quick mode, else `full`. */
export function benchSeconds(full: number, quick: number): number {
  const set = process.env.BENCH_SECONDS;
  return set !== undefined && set !== '' ? Number(set) : BENCH_QUICK ? quick : full;
}

/** The warm-up before each measured phase, in seconds: none in quick mode. */
export const WARM_UP_SECONDS = BENCH_QUICK ? 0 : 1;

/**
 * The PostgreSQL server the benchmarks use (a superuser URL without a database; trust auth):
 * BENCH_POSTGRES_URL; under `npm test` (a smoke run) the suite's own server, which its global
 * setup passes as TEST_POSTGRES_URL; else the development machines' local one.
 */
export const BENCH_POSTGRES = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';

/** The Redis the benchmarks use: BENCH_REDIS_URL, else the suite's own under `npm test` (TEST_REDIS_URL), else the local one. */
export const BENCH_REDIS = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
