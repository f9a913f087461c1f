import { describe, expect, it } from 'vitest';
import { runScript } from './support/npm-script.js';

/** `npm run secrets -- --help`, the CLI's documented entry, through npm. */
describe('npm run secrets', () => {
  it('prints the usage with every command and exits 0', async () => {
    const { code, stdout, stderr } = await runScript('secrets', ['--help'], { timeoutMs: 60_000 });

    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: secrets <command> \[options\]$/m);
    for (const command of ['setup', 'status', 'rotate', 'rollback', 'verify', 'iam', 'init', 'check', 'alarms']) {
      expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    }
  });
});
