import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript, tableRows } from './support/npm-script.js';

/** `npm run bench:healthz` in its quick mode: both probe settings beside their baselines. */
describe('npm run bench:healthz (quick)', () => {
  it('prints per-request and shared /healthz rows with probe rates and no failed request', async () => {
    const { code, stdout, stderr } = await runScript('bench:healthz', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 90_000 });

    expect(code, stderr).toBe(0);
    const rows = tableRows(stdout, /^\| target \| req\/s \| req\/s vs its baseline \|/);
    expect(rows.map(([name]) => name)).toEqual(['bare Fastify GET / (baseline)', 'GET /healthz, HEALTH_MAX_AGE_MS=0', 'bare Fastify GET / (baseline)', 'GET /healthz, HEALTH_MAX_AGE_MS=1000']);
    for (const row of [rows[1]!, rows[3]!]) {
      expect(row[5]).toMatch(/^\d+\.\d$/);
      expect(row[6]).toMatch(/^\d+\.\d$/);
      expect(row[7]).toMatch(/^\d+/);
    }
    expect(stdout).toMatch(/^shared vs per-request \/healthz: \d+\.\d\dx the requests per second$/m);
  });
});
