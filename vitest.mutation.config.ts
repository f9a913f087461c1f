import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (`npm run mutation`): the engine's own, and the
 * CLI's in-process tests for rotate and rollback. Left out: the 300-instance fleet scenario
 * (seconds per run, and every rule it relies on has a unit test) and tests that spawn processes,
 * which run unmutated code.
 */
export default defineConfig({
  test: {
    include: ['test/engine/**/*.test.ts', 'test/cli/run.test.ts', 'test/cli/canary.test.ts'],
    exclude: ['test/engine/startup.wire.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
