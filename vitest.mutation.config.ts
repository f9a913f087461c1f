import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (`npm run mutation`): the engine's own, the CLI's
 * in-process tests for rotate and rollback, the rotation protocol's (src/rotation) that they
 * delegate to, and the admin throttle's and unlock's (src/service/failure-throttle.ts,
 * src/admin-lockout/unlock.ts). Left out: the 300-instance fleet scenario (seconds per run, and
 * every rule it relies on has a unit test), rotate's fault-injection loops (some 200 CLI runs per
 * mutant; each rule they prove has a single-run test), tests that spawn processes, which run
 * unmutated code, rotate.credentials.test.ts, which starts a PostgreSQL cluster
 * (rotate.after-commit.test.ts covers the same paths of rotate.ts against a Redis of its own), and
 * admin-auth.redis-faults.test.ts (two minutes a run, most of it two load scenarios through a
 * Redis pause, and nearly every throttle mutant is covered by them; the throttle's own tests
 * drive the same pauses, refusals and late replies one request at a time).
 */
const ALL_TESTS = [
  'test/engine/**/*.test.ts',
  'test/cli/run.test.ts',
  'test/cli/canary.test.ts',
  'test/cli/commands/rotate.test.ts',
  'test/cli/commands/rotate.after-commit.test.ts',
  'test/cli/commands/rollback.test.ts',
  'test/rotation/rotation-steps.test.ts',
  'test/rotation/run-rotation.test.ts',
  'test/rotation/version-stages.test.ts',
  'test/rotation/version-value.test.ts',
  'test/rotation/service-probe.test.ts',
  'test/rotation/token-rotation.test.ts',
  'test/rotation/url-safe-token.test.ts',
  'test/rotation/unclear-outcome.test.ts',
  'test/rotation/lambda-rotation.test.ts',
  'test/service/failure-throttle.test.ts',
  'test/service/failure-throttle.model.test.ts',
  'test/service/admin-auth.test.ts',
  'test/service/unlock-listener.test.ts',
  'test/admin-lockout/unlock.test.ts',
  'test/cli/commands/unlock.test.ts',
];

/**
 * MUTATION_TESTS (comma-separated test files, a subset of the above) narrows the run: the quick
 * mode of `npm run mutation` (`MUTATION_TESTS=test/rotation/url-safe-token.test.ts npm run mutation
 * -- --dryRunOnly --mutate src/rotation/url-safe-token.ts`), which the smoke run in test/scripts uses.
 */
const only = process.env.MUTATION_TESTS?.split(',').map((t) => t.trim()).filter(Boolean);

export default defineConfig({
  test: {
    include: only !== undefined && only.length > 0 ? only : ALL_TESTS,
    exclude: ['test/engine/startup.wire.test.ts'],
    // The suite's own PostgreSQL and Redis (TEST_POSTGRES_URL, TEST_REDIS_URL), never the machine's.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
