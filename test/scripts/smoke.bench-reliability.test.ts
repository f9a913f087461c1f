import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript } from './support/npm-script.js';

/**
 * `npm run bench:reliability` in its quick mode (two rotations, a 1 s outage, credential rotations
 * by the CLI path once per row): every section and line of the report, with figures.
 */
describe('npm run bench:reliability (quick)', () => {
  it('reports the token rotations, the outage and the credential rotations under load', async () => {
    const { code, stdout, stderr } = await runScript('bench:reliability', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 170_000 });

    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^# reliability benchmark \(quick; 3 instances, TTL 10000 ms, node v\d+/m);
    expect(stdout).toMatch(/^## rotations: 2 \(1 graceful, 1 immediate\), 6 instance adoptions$/m);
    expect(stdout).toMatch(/^new token accepted by an instance, ms after PutSecretValue: p50 \d+, p99 \d+, max \d+ \(target p99 <= 1000\)$/m);
    expect(stdout).toMatch(/^old token refused after an immediate rotation, ms: p50 \d+, p99 \d+, max \d+ \(target <= 1000\)$/m);
    expect(stdout).toMatch(/^background load during rotations: \d+ requests, \d+ failed \{.*\}, \d+ sent with a just-revoked token refused/m);
    expect(stdout).toMatch(/^## outage: 1 s of InternalServiceError from Secrets Manager$/m);
    expect(stdout).toMatch(/^background load during the outage: \d+ requests, \d+ failed \{.*\}$/m);
    expect(stdout).toMatch(/^\/healthz statuses seen \(polled each second per instance\): \{"\w+":\d+.*\}$/m);
    expect(stdout).toMatch(/^Secrets Manager calls during the outage: \d+ from 3 instances/m);
    expect(stdout).toMatch(/^refresh attempts per instance during the outage: \d+, \d+, \d+ \(/m);
    expect(stdout).toMatch(/^all instances healthy again \d+ ms after the outage ended \(target <= 30000\)$/m);
    expect(stdout).toMatch(/^## credential rotations under load: 1 per row, /m);
    const rows = stdout.split('\n').filter((l) => l.startsWith('CLI --notify (URL) | '));
    expect(rows.map((l) => l.split(' | ')[1])).toEqual(['database-password single-user', 'database-password alternating-users', 'redis-password']);
    for (const row of rows) expect(row.split(' | ').slice(2)).toEqual([...Array(7).fill(expect.stringMatching(/^\d+$/)), expect.stringMatching(/^\d+ \/ \d+$/), expect.stringMatching(/^\d+ \/ \d+/)]);
  }, 200_000);
});
