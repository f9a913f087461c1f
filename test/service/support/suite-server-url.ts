/** Where the global setup (test/support/global-setup.ts) passes the servers it started to every test file and child process. */
export type SuiteServerVariable = 'TEST_POSTGRES_URL' | 'TEST_REDIS_URL';

/**
 * A URL the global setup put in the environment. Under Vitest without it a test would reach for a
 * server it did not start: that throws. Outside Vitest (a benchmark that imports a test helper)
 * there is no suite server, and the URL names a loopback port that refuses at once.
 */
export function suiteServerUrl(name: SuiteServerVariable, env: NodeJS.ProcessEnv = process.env): string {
  const url = env[name];
  if (url !== undefined && url !== '') return url;
  if (env.VITEST !== undefined) throw new Error(`${name} is not set: run the tests with vitest (npm test), whose global setup starts the servers`);
  return name === 'TEST_POSTGRES_URL' ? 'postgresql://postgres@127.0.0.1:1' : 'redis://127.0.0.1:1';
}
