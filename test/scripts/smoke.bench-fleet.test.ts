import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript } from './support/npm-script.js';

/**
 * `npm run bench:fleet` in its quick mode (2 instances, one rotation per strategy, a one-second
 * notice flood, push off skipped): every line of the report, with figures.
 */
describe('npm run bench:fleet (quick)', () => {
  it('reports the notice flood, the push-on rotations per strategy and the load', async () => {
    const { code, stdout, stderr } = await runScript('bench:fleet', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 150_000 });

    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^# fleet benchmark: 2 instances, 1 rotations per strategy, node v\d+/m);
    expect(stdout).toMatch(/^\(b\) 100 junk \+ 100 well-formed notices in \d+\.\d s, 2 receivers each: Secrets Manager calls \{.*\}, \d+\.\d\d per instance \(target <= 3\)$/m);
    expect(stdout).toMatch(/^\(a\) push off: skipped \(quick mode\)$/m);
    expect(stdout).toMatch(/^\(a\) push on \(.*\): new token accepted by every instance, ms after the rotate command returned: p50 \d+, p99 \d+, max \d+$/m);
    for (const strategy of ['immediate', 'graceful']) expect(stdout).toMatch(new RegExp(`^    ${strategy}: \\{"p50Ms":\\d+,"p99Ms":\\d+,"maxMs":\\d+\\}$`, 'm'));
    expect(stdout).toMatch(/^ {4}load: \d+ authenticated requests, \d+ failed \{.*\}, \d+ sent with a just-revoked token refused/m);
  }, 180_000);
});
