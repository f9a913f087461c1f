import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/run.js';
import type { LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { freePort } from '../../service/support/free-port.js';
import { cliDeps } from '../support.js';

/** unlock needs no AWS: the endpoint given here is never called. */
const NO_AWS = { url: 'http://127.0.0.1:9' } as LocalSecretsManager;

describe('secrets unlock', () => {
  it.each([
    [['unlock'], /unlock takes exactly one client address/],
    [['unlock', '1.2.3.4', '5.6.7.8'], /unlock takes exactly one client address/],
    [['unlock', 'admin.example.com', '--redis-url', 'redis://127.0.0.1:1'], /unlock takes an IP address/],
    [['unlock', '1.2.3.4'], /unlock needs --redis-url URL \(or REDIS_URL\)/],
  ])('is a usage error (exit 2) for %j', async (argv, message) => {
    const cli = await cliDeps(NO_AWS);

    expect(await run(argv, cli.deps)).toBe(2);
    expect(cli.stderr()).toMatch(message);
  });

  it('fails (exit 1) naming the driver code, never the URL or its password, when Redis cannot be reached', async () => {
    const cli = await cliDeps(NO_AWS, { env: { REDIS_URL: `redis://:planted-redis-password-1234@127.0.0.1:${await freePort()}` } });

    expect(await run(['unlock', '1.2.3.4'], cli.deps)).toBe(1);
    expect(cli.stderr()).toMatch(/^error: Could not unlock: Redis answered [A-Z]+ \(nothing was changed\)/);
    expect(cli.stdout() + cli.stderr()).not.toContain('planted-redis-password');
  });
});
