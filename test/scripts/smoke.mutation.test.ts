import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../service/support/service-process.js';
import { runScript } from './support/npm-script.js';

/**
 * `npm run mutation` as a dry run: StrykerJS reads its configuration, instruments one small file
 * and runs the initial test run of its vitest configuration, narrowed by MUTATION_TESTS to that
 * file's tests; no mutant is run. A broken Stryker or vitest-runner set-up fails here.
 */
describe('npm run mutation (dry run)', () => {
  it('instruments the file, passes the initial test run and stops there', async () => {
    const tempDir = `.stryker-tmp/smoke-${randomBytes(4).toString('hex')}`;
    const { code, stdout, stderr } = await runScript(
      'mutation',
      ['--dryRunOnly', '--mutate', 'src/rotation/url-safe-token.ts', '--concurrency', '1', '--reporters', 'clear-text', '--tempDirName', tempDir],
      { env: { MUTATION_TESTS: 'test/rotation/url-safe-token.test.ts', FORCE_COLOR: '0' }, timeoutMs: 120_000 },
    );
    const output = stdout + stderr;

    expect(code, output).toBe(0);
    expect(output).toMatch(/Found 1 of \d+ file\(s\) to be mutated\./);
    expect(output).toMatch(/Instrumented 1 source file\(s\) with [1-9]\d* mutant\(s\)/);
    expect(output).toMatch(/Initial test run succeeded\. Ran [1-9]\d* tests/);
    expect(output).toContain('The dry-run has been completed successfully. No mutations have been executed.');
    expect(existsSync(join(REPO, tempDir))).toBe(false);
  }, 150_000);
});
