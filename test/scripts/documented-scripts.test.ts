import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../service/support/service-process.js';
import { documentedScripts, smokeTestFile } from './support/documented-scripts.js';

/**
 * Every `npm run X` that README.md, BENCHMARKS.md, RELIABILITY.md or the guide documents has a
 * smoke run in `npm test` (test/scripts/smoke.X.test.ts, which runs it through npm), so a change
 * that breaks a documented command fails CI, and a newly documented script without one fails here.
 */
const NOT_SMOKED: Record<string, string> = {
  // `npm test` itself under Node 24: CI (.ci/run) runs it in full; a smoke run inside npm test would recurse.
  'test:node24': '.ci/run runs `.ci/with-node24 npm test`',
};

const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const documented = documentedScripts();

describe('documented npm scripts', () => {
  it('finds the commands the documents run', () => {
    expect([...documented.keys()]).toEqual(expect.arrayContaining(['bench', 'bench:fleet', 'bench:reliability', 'build', 'dev', 'dev:aws', 'local-aws', 'mutation', 'secrets']));
  });

  it.each([...documented].map(([name, docs]) => ({ name, docs: docs.join(', ') })))('`npm run $name` ($docs) exists in package.json', ({ name }) => {
    expect(scripts[name], `package.json has no script "${name}"`).toBeDefined();
  });

  it.each([...documented.keys()].filter((name) => !(name in NOT_SMOKED)))('`npm run %s` has a smoke run that runs it through npm', (name) => {
    const file = smokeTestFile(name);
    expect(existsSync(join(REPO, file)), `${file} is missing: every documented script needs a smoke run`).toBe(true);
    expect(readFileSync(join(REPO, file), 'utf8')).toContain(`'${name}'`);
  });

  it('exempts only scripts that are documented, each with the reason', () => {
    for (const [name, reason] of Object.entries(NOT_SMOKED)) {
      expect(documented.has(name), name).toBe(true);
      expect(reason.length).toBeGreaterThan(10);
    }
  });
});
