import { describe, expect, it } from 'vitest';
import { runScript } from './support/npm-script.js';

/** `npm run test:interleavings -- --runs N`: the rotation protocol's model-based test for long runs, here with a few runs. */
describe('npm run test:interleavings', () => {
  it('runs the given number of interleavings and passes', async () => {
    const { code, stdout, stderr } = await runScript('test:interleavings', ['--runs', '4'], { timeoutMs: 240_000 });

    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(`${stdout}${stderr}`).toMatch(/passed/);
  }, 300_000);
});
