import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Wire tests start servers on free ports; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
