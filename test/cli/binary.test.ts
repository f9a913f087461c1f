import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_CREDENTIALS } from '../../src/cli/errors.js';
import { localClient, useLocalAws } from '../support/local-aws.js';

const exec = promisify(execFile);
const MAIN = resolve('src/cli/main.ts');
// The loader by absolute path: the binary runs in a temp folder with no node_modules.
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
let cwd: string;
const outputs: string[] = [];

const lsm = useLocalAws();
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'secrets-bin-'));
});

/** The real bin, as an operator runs it: env credentials, no terminal. */
async function secrets(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: lsm.url };
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env });
    outputs.push(stdout, stderr);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    outputs.push(e.stdout, e.stderr);
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the secrets binary', () => {
  it('sets up, rotates and rolls back through the real binary, printing no value', async () => {
    await writeFile(
      join(cwd, 'ci.env'),
      'META_APP_SECRET=canary-bin-app-9z8y7x6w5v4u3t2s1r0q\nDATABASE_URL=postgresql://u:canary-bin-db-7x6w@127.0.0.1:5432/app\nREDIS_URL=redis://127.0.0.1:6379\nOPENAI_API_KEY=canary-bin-key-5v4u\n',
    );

    const setup = await secrets('setup', '--from-env', 'ci.env', '--yes');
    expect(setup.code).toBe(0);
    expect(setup.stderr).toContain('Caller: arn:aws:iam::000000000000:');
    expect(JSON.parse(await readFile(join(cwd, '.generated/iam-policies/secrets-read-only-policy.json'), 'utf8')).Statement[0].Resource).toBe(
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:whatsapp-saas/mvp/*',
    );

    const rotate = await secrets('rotate', 'admin-token', '--yes', '--force', '--strategy', 'graceful', '--save-token', 'token.txt');
    expect(rotate.code).toBe(0);
    const token = (await readFile(join(cwd, 'token.txt'), 'utf8')).trim();
    expect((await stat(join(cwd, 'token.txt'))).mode & 0o777).toBe(0o600);

    const rollback = await secrets('rollback', 'admin-token', '--yes');
    expect(rollback.code).toBe(0);
    const versions = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }))).Versions ?? [];
    expect(versions.filter((v) => v.VersionStages?.includes('AWSCURRENT'))).toHaveLength(1);
    expect(versions).toHaveLength(2);

    const noTerminal = await secrets('rotate', 'admin-token', '--force');
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toContain('pass --yes');

    const everything = outputs.join('\n') + (await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8'));
    expect(everything).not.toMatch(/canary-bin-|NodeVersionSupportWarning/);
    expect(everything).not.toContain(token);
  }, 60_000);

  it('runs the seed script wrappers with the same arguments and exit codes', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: lsm.url };
    const script = async (name: string, ...args: string[]) => {
      try {
        const { stdout, stderr } = await exec('bash', [resolve('scripts', name), ...args], { env });
        outputs.push(stdout, stderr);
        return { code: 0, stdout };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        outputs.push(e.stdout, e.stderr);
        return { code: e.code, stdout: e.stdout };
      }
    };
    await writeFile(join(cwd, 'wrapper.env'), 'META_APP_SECRET=wrapper-app-secret-0123456789abcdef\nDATABASE_URL=postgresql://h/db\nREDIS_URL=redis://h:6379\nOPENAI_API_KEY=k\n');

    expect((await script('setup-aws-secrets.sh', '--from-env', join(cwd, 'wrapper.env'), '--yes', '--out', join(cwd, 'wrapper-policies'))).code).toBe(0);
    const verify = await script('rotate-admin-token.sh', 'verify', '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ secretId: 'whatsapp-saas/mvp/admin-token' });
    expect((await script('rotate-admin-token.sh', 'rollback', '--help')).stdout).toContain('Usage: secrets rollback admin-token');
    expect((await script('rotate-admin-token.sh', '--strategy', 'sideways', '--yes')).code).toBe(2);
    // Four CLI starts through npx and tsx, seconds each on a loaded machine: the bound catches a hang, not slowness.
  }, 120_000);

  it('tells an operator with no credentials how to provide them, in one line, through the real binary', async () => {
    // No endpoint: the SDK resolves credentials before it sends anything, so no request leaves the machine.
    const failure = await exec(process.execPath, ['--import', TSX, MAIN, 'status'], { cwd, env: emptyEnvironment() }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure.code).toBe(1);
    expect(failure.stderr).toBe(`error: ${NO_CREDENTIALS}\n`);
  }, 30_000);

  it('works against the local endpoint with no credentials configured at all', async () => {
    const env = emptyEnvironment();
    await writeFile(join(cwd, 'empty-env.env'), 'META_APP_SECRET=empty-env-app-secret-0123456789abcdef\nDATABASE_URL=postgresql://h/db\nREDIS_URL=redis://h:6379\nOPENAI_API_KEY=k\n');
    const args = ['--endpoint-url', lsm.url, '--project', 'nocreds'];
    const run = (...a: string[]) =>
      exec(process.execPath, ['--import', TSX, MAIN, ...a, ...args], { cwd, env }).then(
        (r) => ({ code: 0, ...r }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );

    const before = await run('status');
    const setup = await run('setup', '--from-env', 'empty-env.env', '--yes');
    const after = await run('status', '--json');

    expect(before.stderr).not.toMatch(/credentials/i);
    expect(before.code).toBe(1); // required secrets missing: the call itself worked
    expect(setup.code).toBe(0);
    expect(setup.stderr).toContain('Caller: arn:aws:iam::000000000000:user/local');
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as { secrets: { exists: boolean }[] }).secrets.filter((s) => s.exists)).toHaveLength(6); // four given, two generated
  }, 60_000);
});

/** An environment with nothing AWS in it, HOME an empty folder (no ~/.aws), and no metadata lookups. */
function emptyEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: cwd, AWS_EC2_METADATA_DISABLED: 'true' };
}
