import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript, tableRows } from './support/npm-script.js';

/** `npm run bench:dev` in its quick mode (one round): the three starts, each with a time. */
describe('npm run bench:dev (quick)', () => {
  it('times the baseline, the embedded PostgreSQL first run and its restart', async () => {
    const { code, stdout, stderr } = await runScript('bench:dev', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 150_000 });

    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^node v\d+\.\d+\.\d+, 1 rounds, first healthy \/healthz/m);
    const rows = tableRows(stdout, /^\| start \| median s \| range s \| vs baseline \|$/);
    expect(rows.map(([name]) => name)).toEqual([
      'PostgreSQL and Redis already running (baseline)',
      'embedded PostgreSQL, first run (initdb), no Redis',
      'embedded PostgreSQL, restart (data kept), no Redis',
    ]);
    for (const [, median, range, ratio] of rows) {
      expect(median).toMatch(/^\d+\.\d\d$/);
      expect(range).toMatch(/^\d+\.\d\d-\d+\.\d\d$/);
      expect(ratio).toMatch(/^\d+\.\dx$/);
    }
  }, 180_000);
});
