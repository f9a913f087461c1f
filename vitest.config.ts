import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The suite's own PostgreSQL and Redis (TEST_POSTGRES_URL, TEST_REDIS_URL), never the machine's.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Wire tests start servers on free ports; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
