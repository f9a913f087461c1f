import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript } from './support/npm-script.js';

/**
 * `BENCH_ONLY=regions npm run bench:reliability` in its quick mode (RELIABILITY.md, "Regional
 * outage"): start-up with the primary failing and hanging, rotations under replication lag, and a
 * 12 s primary failure under load. Every line of the report, with figures; a shape check, not a
 * speed one, except that no request may fail (the bench's point).
 */
describe('BENCH_ONLY=regions npm run bench:reliability (quick)', () => {
  it('reports start-up from the replica, rotations under lag, and the primary failing under load', async () => {
    const { code, stdout, stderr } = await runScript('bench:reliability', [], {
      env: { ...quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), BENCH_ONLY: 'regions' },
      timeoutMs: 170_000,
    });

    expect(code, stderr).toBe(0);
    const ms = '\\d+(?:, \\d+)*';
    expect(stdout).toMatch(/^## regional outage: primary us-east-1, replica us-west-2, 3 instances, TTL 10000 ms \(quick, node v\d+/m);
    expect(stdout).toMatch(new RegExp(`^start-up, primary in outage: every instance up from the replica after ${ms} ms \\(deadline 30000\\)$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^start-up, primary hanging: every instance up from the replica after ${ms} ms \\(deadline 30000\\)$`, 'm'));
    const rotations = stdout.split('\n').filter((l) => l.startsWith('rotation just before the primary failed'));
    expect(rotations).toHaveLength(2);
    for (const line of rotations) {
      expect(line).toMatch(new RegExp(`^rotation just before the primary failed, replication lag \\d+ ms: new version in use on every instance after ${ms} ms \\(refresh notices applied so far per instance: ${ms}\\)$`));
    }
    // Each instance heard the bench's refresh notice (published on the channel instances listen on),
    // not only its TTL: after the first rotation every instance applied one notice at least.
    const applied = (line: string) => line.split('per instance: ')[1]!.replace(')', '').split(', ').map(Number);
    for (const n of applied(rotations[0]!)) expect(n).toBeGreaterThanOrEqual(1);
    expect(stdout).toMatch(/^primary failing 12 s under load: \d+ requests, 0 failed \{.*\}$/m);
    expect(stdout).toMatch(/^\/healthz statuses seen \(each second per instance\): \{.*\}; serving region: \{.*"us-west-2".*\}$/m);
    expect(stdout).toMatch(/^Secrets Manager calls per 10 s \(3 instances\): us-east-1 \[[\d, ]*\], us-west-2 \[[\d, ]*\]$/m);
    expect(stdout).toMatch(/^every instance back on the primary \d+ ms after it returned \(target <= 30000\)$/m);
    expect(stdout).toMatch(/^one attempt \(whole catalog\), median: primary up [\d.]+ ms, primary failing \(5xx\) [\d.]+ ms, primary hanging \d+ ms/m);
  }, 200_000);
});
