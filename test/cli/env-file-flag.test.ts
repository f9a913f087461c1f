import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `--env-file` is also a Node 20 flag, which node takes even after the script name (exit 9,
 * "node: PATH: not found"). These run the two documented ways for real: the npm script, and the
 * built `secrets` bin started through its shebang as npm's bin link starts it.
 */
const exec = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secrets-env-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function outcome(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir };
  return exec(command, args, { cwd, env }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
}

describe('--env-file for init and check', () => {
  it('works through npm run secrets --', async () => {
    const path = join(dir, 'npm.env');

    const init = await outcome('npm', ['run', '--silent', 'secrets', '--', 'init', '--env-file', path], REPO);
    const check = await outcome('npm', ['run', '--silent', 'secrets', '--', 'check', '--env-file', path], REPO);

    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect(init.stdout).toBe(`Created ${path} (mode 0600) with generated ADMIN_TOKEN and META_VERIFY_TOKEN\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // Fresh from .env.example: every secret is there and valid; the two placeholders are named as such (exit 0).
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`^${path.replaceAll('.', '\\.')}:\\n`));
    expect(check.stdout).toMatch(/^PLACEHOLDER\s+META_APP_SECRET\s/m);
    expect(check.stdout).toMatch(/^PLACEHOLDER\s+OPENAI_API_KEY\s/m);
    expect(check.stdout).not.toMatch(/^(MISSING|INVALID)/m);
  }, 60_000);

  it('works through the built bin, as npm links it', async () => {
    const app = join(dir, 'app');
    await mkdir(app);
    await exec(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: REPO });
    for (const f of ['package.json', '.env.example']) await cp(join(REPO, f), join(app, f));
    await symlink(join(REPO, 'node_modules'), join(app, 'node_modules'));
    // What npm does for "bin": an executable file, linked by name into a bin folder.
    await chmod(join(app, 'dist/cli/main.js'), 0o755);
    await mkdir(join(app, 'bin'));
    await symlink(join(app, 'dist/cli/main.js'), join(app, 'bin/secrets'));
    const path = join(dir, 'built.env');

    const init = await outcome(join(app, 'bin/secrets'), ['init', '--env-file', path], app);
    const check = await outcome(join(app, 'bin/secrets'), ['check', '--env-file', path], app);
    await writeFile(join(dir, 'broken.env'), 'ADMIN_TOKEN=\n');
    const broken = await outcome(process.execPath, ['--', join(app, 'dist/cli/main.js'), 'check', '--env-file', join(dir, 'broken.env')], app);

    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // Fresh from .env.example: every secret is there and valid; the two placeholders are named as such (exit 0).
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`^${path.replaceAll('.', '\\.')}:\\n`));
    expect(check.stdout).toMatch(/^PLACEHOLDER\s+META_APP_SECRET\s/m);
    expect(check.stdout).toMatch(/^PLACEHOLDER\s+OPENAI_API_KEY\s/m);
    expect(check.stdout).not.toMatch(/^(MISSING|INVALID)/m);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^MISSING\s+ADMIN_TOKEN\s+Admin API authentication token$/m);
  }, 180_000);
});
