import { describe, expect, it } from 'vitest';
import { runScript, tableRows } from './support/npm-script.js';

/** `npm run bench:cli` in its quick mode: every command's row with a time and a ratio, never their size. */
describe('npm run bench:cli (quick)', () => {
  it('times node -e 0, the CLI help and status through npm, and the tsx start, each as a ratio', async () => {
    const { code, stdout, stderr } = await runScript('bench:cli', [], { env: { BENCH_QUICK: '1' }, timeoutMs: 120_000 });

    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^# CLI start-up \(quick: median of 2 after a warm-up; node v\d+/m);
    const rows = tableRows(stdout, /^\| command \| median ms \| vs node -e 0 \| target \|$/);
    expect(rows.map(([name]) => name)).toEqual([
      'node -e 0',
      'npm run -s secrets -- --help',
      'npm run -s secrets -- status --json (local endpoint)',
      'node scripts/secrets.mjs --help (the bundle without npm)',
      'node --import tsx src/cli/main.ts -- --help (before; tsx compile cache warm)',
    ]);
    for (const [, ms, ratio] of rows) {
      expect(ms).toMatch(/^\d+$/);
      expect(ratio).toMatch(/^\d+\.\dx$/);
    }
    expect(rows[0]![2]).toBe('1.0x');
  }, 150_000);
});
