/** Where the global setup (test/support/global-setup.ts) passes the servers it started to every test file and child process. */
export type SuiteServerVariable = 'TEST_POSTGRES_URL' | 'TEST_REDIS_URL';

/** A URL the global setup put in the environment; without it a test would reach for a server it did not start. */
export function suiteServerUrl(name: SuiteServerVariable, env: NodeJS.ProcessEnv = process.env): string {
  const url = env[name];
  if (url === undefined || url === '') throw new Error(`${name} is not set: run the tests with vitest (npm test), whose global setup starts the servers`);
  return url;
}
