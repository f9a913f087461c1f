import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { interleavingEnv, MODEL_TEST } from '../../scripts/test-interleavings.js';

describe('npm run test:interleavings', () => {
  it('turns --runs, --only, --seed, --path and --replay-path into the model test’s settings', () => {
    expect(interleavingEnv(['--', '--runs', '20000'])).toEqual({ INTERLEAVING_RUNS: '20000' });
    expect(interleavingEnv(['--runs', '5', '--seed', '-1653294529', '--path', '1:1:1'])).toEqual({ INTERLEAVING_RUNS: '5', INTERLEAVING_SEED: '-1653294529', INTERLEAVING_PATH: '1:1:1' });
    expect(interleavingEnv(['--only', 'tokens', '--seed', '-444614658', '--path', '160:4:5:4:5', '--replay-path', 'CAL:F'])).toEqual({
      INTERLEAVING_ONLY: 'tokens',
      INTERLEAVING_SEED: '-444614658',
      INTERLEAVING_PATH: '160:4:5:4:5',
      INTERLEAVING_REPLAY_PATH: 'CAL:F',
    });
  });

  it('refuses what it does not know, and a run count that is not a positive integer', () => {
    expect(() => interleavingEnv(['--runs'])).toThrow(/usage/);
    expect(() => interleavingEnv(['--bogus', '1'])).toThrow(/usage/);
    expect(() => interleavingEnv(['--runs', 'many'])).toThrow(/integer/);
    expect(() => interleavingEnv(['--runs', '0'])).toThrow(/positive/);
    expect(() => interleavingEnv(['--only', 'everything'])).toThrow(/tokens or passwords/);
    expect(() => interleavingEnv(['--seed', '1:2'])).toThrow(/integer/);
  });

  it('runs the model test that reads those settings, and is an npm script', async () => {
    expect(existsSync(MODEL_TEST)).toBe(true);
    const source = await readFile(MODEL_TEST, 'utf8');
    for (const name of ['INTERLEAVING_RUNS', 'INTERLEAVING_ONLY', 'INTERLEAVING_SEED', 'INTERLEAVING_PATH', 'INTERLEAVING_REPLAY_PATH']) expect(source).toContain(`process.env.${name}`);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test:interleavings']).toBe('tsx scripts/test-interleavings.ts');
  });
});
