import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript, tableRows } from './support/npm-script.js';

/** `npm run bench:ingest` in its quick mode: every row of the table, with numbers; never its speed. */
describe('npm run bench:ingest (quick)', () => {
  it('prints one row per writers and concurrency with events a second and per transaction', async () => {
    const { code, stdout, stderr } = await runScript('bench:ingest', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 60_000 });

    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^node v\d+\.\d+\.\d+, 0\.25 s each, /m);
    const rows = tableRows(stdout, /^\| writers \| at once \| events\/s \| events per transaction \|$/);
    expect(rows.map(([writers, atOnce]) => `${writers}x${atOnce}`)).toEqual(['3x10', '3x100', '6x10', '6x100', '8x10', '8x100']);
    for (const [, , perSecond, perTransaction] of rows) {
      expect(perSecond).toMatch(/^\d+$/);
      expect(perTransaction).toMatch(/^\d+\.\d$/);
    }
  });
});
