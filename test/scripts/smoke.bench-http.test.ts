import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript, tableRows } from './support/npm-script.js';

/** `npm run bench:http` in its quick mode: the report's tables and verdict lines, not its figures. */
describe('npm run bench:http (quick)', () => {
  it('prints every target at 10 and 100 connections, the verdicts, and both bursts', async () => {
    const { code, stdout, stderr } = await runScript('bench:http', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 90_000 });

    expect(code, stderr).toBe(0);
    const rows = tableRows(stdout, /^\| target \| connections \| req\/s \|/);
    expect(rows.map(([name, connections]) => `${name} @${connections}`)).toEqual([
      'bare Fastify GET / (baseline) @10',
      'GET /healthz @10',
      'GET /admin/secrets/health @10',
      'POST /webhook (signed, stored; group commit) @10',
      'POST /webhook, one event per transaction (reference) @10',
      'bare Fastify GET / (baseline) @100',
      'POST /webhook (signed, stored; group commit) @100',
      'POST /webhook, one event per transaction (reference) @100',
    ]);
    for (const row of rows) expect(row.slice(2, 6).every((cell) => /^\d+(\.\d+x)?$/.test(cell)), row.join(' | ')).toBe(true);
    expect(stdout).toMatch(/^10 connections: webhook \d+\.\d\dx the bare route \(target >= 0\.40x\), p99 \d+ ms/m);
    expect(stdout).toMatch(/^100 connections: webhook \d+\.\d\dx the bare route/m);
    expect(stdout).toMatch(/^one committed single-row INSERT, sequential: p50 \d+\.\d\d ms/m);
    const bursts = tableRows(stdout, /^\| connections \| answered \|/);
    expect(bursts.map(([connections]) => connections)).toEqual(['100', '512']);
    for (const [, answered, , , , , byStatus] of bursts) {
      expect(Number(answered)).toBeGreaterThan(0);
      expect(byStatus).toMatch(/^200: \d+/);
    }
  });
});
