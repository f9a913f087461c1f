import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..');
const SECRETLINT = join(REPO, 'node_modules/.bin/secretlint');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secretlint-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** secretlint with the repository's configuration over one file: exit code and output. */
async function scan(content: string): Promise<{ code: number; output: string }> {
  const file = join(dir, `sample-${Math.random().toString(36).slice(2)}.ts`);
  await writeFile(file, content);
  try {
    const { stdout, stderr } = await run(SECRETLINT, ['--secretlintrc', join(REPO, '.secretlintrc.json'), '--maskSecrets', file], { cwd: REPO });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the repository secretlint configuration', () => {
  it('finds a real-looking credential, and prints it masked', async () => {
    // Built at run time so this file itself holds no credential.
    const password = ['Xk9', 'mQ2', 'vL7', 'pR4'].join('');
    const { code, output } = await scan(`export const url = 'postgresql://app:${password}@db.example.com:5432/app';\n`);

    expect(code).toBe(1);
    expect(output).toContain('PostgreSQLConnection');
    expect(output).not.toContain(password);
  }, 60_000);

  it('accepts the fixture convention: a planted or canary credential', async () => {
    const { code } = await scan("export const url = 'postgresql://app:canary-db-pass-1234@db.example.com:5432/app';\n");

    expect(code).toBe(0);
  }, 60_000);
});
