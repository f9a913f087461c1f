import { describe, expect, it } from 'vitest';
import { runScript } from './support/npm-script.js';

/** `npm run bench` in its quick mode (BENCH_QUICK=1): the report's shape, never its figures. */
describe('npm run bench (quick)', () => {
  it('prints the hot-read and start-up tables with a figure in every row', async () => {
    const { code, stdout, stderr } = await runScript('bench', [], { env: { BENCH_QUICK: '1' }, timeoutMs: 90_000 });

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# engine benchmark \(quick: /);
    for (const row of ['engine.get()', 'bare Map.get', 'process.env read', 'Powertools SecretsProvider cache hit']) {
      expect(stdout).toMatch(new RegExp(`^\\| ${row.replace(/[.()]/g, '\\$&')} \\| \\d+\\.\\d \\| `, 'm'));
    }
    expect(stdout).toMatch(/^API calls during the hot-read runs: 0$/m);
    expect(stdout).toMatch(/^\| engine \(BatchGetSecretValue\) \| 1 \| \d+\.\d \| 1\.00x \|$/m);
    expect(stdout).toMatch(/^\| per-secret GetSecretValue, sequential \| 11 \| \d+\.\d \| \d+\.\d\dx slower \|$/m);
    expect(stdout).toMatch(/^\| per-secret GetSecretValue, parallel \| 11 \| \d+\.\d \| \d+\.\d\dx slower \|$/m);
  });
});
