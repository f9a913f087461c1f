import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETUP_POLICIES_DIR } from '../src/cli/commands/setup.js';
import { rotationLogPath } from '../src/cli/rotation-log.js';
import { CLI_ROTATION_KINDS } from '../src/cli/rotation-kinds.js';
import { defaultTokenPath } from '../src/cli/token-file.js';
import { DEV_DATA_DIR } from '../src/service/dev-dependencies.js';
import { REPO } from './service/support/service-process.js';

const run = promisify(execFile);

/**
 * Every file the guide tells an operator to create, and every file the CLI or `npm run dev`
 * writes, that can hold a value is ignored by git (.gitignore) and left out of the Docker build
 * context (.dockerignore). The list comes from the guide's text and from the CLI's own path
 * functions, so a new file named in either is checked without editing this test.
 */
const UUID = '7bc9c8b3-d984-4b52-bb20-d45b325a61d9';

/** File names the guide writes in backticks or after a redirection, that hold values (.txt, .log, .env). */
async function namedByGuide(): Promise<string[]> {
  // `<secret>`, `<version id>` and `*` stand for a part of a name: a sample stands in for them.
  const guide = (await readFile(join(REPO, 'docs/SECRETS_MANAGEMENT.md'), 'utf8')).replace(/<[a-z][a-z ]*>/g, 'sample');
  const names = new Set<string>();
  for (const [, name] of guide.matchAll(/(?:[`\s>(/]|file:\/\/)([A-Za-z0-9_.*-]+\.(?:txt|log|env))(?=[`\s)]|$)/gm)) {
    names.add(name!.replaceAll('*', UUID));
  }
  return [...names].sort();
}

/** What the CLI and the dev server write in the working folder. */
function writtenByTools(): string[] {
  const kinds = CLI_ROTATION_KINDS.map((k) => k.module.kind);
  return [
    ...kinds.map((kind) => defaultTokenPath('', kind, UUID)),
    ...kinds.map((kind) => rotationLogPath(kind)),
    `${DEFAULT_SETUP_POLICIES_DIR}/secrets-read-only-policy.json`,
    `${DEV_DATA_DIR}/postgres/PG_VERSION`,
    // The status page test's screenshots (README: "git-ignored").
    'artifacts/admin-ui.png',
    '.env',
    '.env.local',
    '.env.production',
  ];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ignore-files-'));
  await run('git', ['init', '-q', dir]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Which of `paths` the rules ignore, as git reads them (`git check-ignore --no-index`). */
async function ignoredBy(rules: string, paths: readonly string[]): Promise<Set<string>> {
  await writeFile(join(dir, '.gitignore'), rules);
  const { stdout } = await run('git', ['check-ignore', '--no-index', '--', ...paths], { cwd: dir }).catch((err: { stdout: string; code: number }) => {
    if (err.code === 1) return { stdout: err.stdout }; // none ignored
    throw err;
  });
  return new Set(stdout.split('\n').filter(Boolean));
}

/**
 * .dockerignore rules read as Docker reads them: relative to the context's root (Go's
 * filepath.Match plus `**`), so each rule is anchored there before git matches it.
 */
function anchored(dockerignore: string): string {
  return dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => (line.startsWith('!') ? `!/${line.slice(1).replace(/^\//, '')}` : `/${line.replace(/^\//, '')}`))
    .join('\n');
}

describe('ignored files', () => {
  it('reads the files the guide names from its text', async () => {
    expect(await namedByGuide()).toEqual(expect.arrayContaining(['admin-token.txt', 'old-admin-token.txt', 'meta-app-secret.txt', 'admin-token-rotation.log']));
  });

  it('git ignores every file the guide and the tools create that can hold a value', async () => {
    const files = [...(await namedByGuide()), ...writtenByTools()];
    const ignored = await ignoredBy(await readFile(join(REPO, '.gitignore'), 'utf8'), files);
    expect(files.filter((f) => !ignored.has(f))).toEqual([]);
  });

  it('leaves every one of them out of the Docker build context', async () => {
    const files = [...(await namedByGuide()), ...writtenByTools()];
    const ignored = await ignoredBy(anchored(await readFile(join(REPO, '.dockerignore'), 'utf8')), files);
    expect(files.filter((f) => !ignored.has(f))).toEqual([]);
  });

  it('keeps .env.example in git and in the build context', async () => {
    expect(await ignoredBy(await readFile(join(REPO, '.gitignore'), 'utf8'), ['.env.example'])).toEqual(new Set());
    expect(await ignoredBy(anchored(await readFile(join(REPO, '.dockerignore'), 'utf8')), ['.env.example'])).toEqual(new Set());
  });
});
