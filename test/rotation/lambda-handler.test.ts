import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { localClient, useLocalAws } from '../support/local-aws.js';

const exec = promisify(execFile);
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:bundle-rotation';
const T0 = 'canary-bundle-original-W3e4R5t6';
/** Imports the bundle as Lambda's Node.js runtime does and calls its handler with one event. */
const INVOKE = 'const { handler } = await import(process.env.BUNDLE); await handler(JSON.parse(process.env.EVENT));';

let bundle: string;
const logs: string[] = [];

const lsm = useLocalAws();
beforeAll(async () => {
  // The deployable artifact exactly as `npm run build` makes it, copied so a later build cannot change it under the test.
  await exec('npm', ['run', '--silent', 'build:rotation-lambda'], { cwd: resolve('.') });
  bundle = join(await mkdtemp(join(tmpdir(), 'rotation-lambda-')), 'index.mjs');
  await copyFile(resolve('dist/rotation-lambda/index.mjs'), bundle);
}, 120_000);

/** One invocation of the bundle in its own Node process, configured as the Lambda function would be. */
async function invoke(event: unknown, project: string): Promise<{ code: number; output: string }> {
  const env = {
    PATH: process.env.PATH,
    BUNDLE: bundle,
    EVENT: JSON.stringify(event),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SECRETS_MANAGER_ENDPOINT: lsm.url,
    SECRETS_PROJECT: project,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--input-type=module', '-e', INVOKE], { env, cwd: tmpdir() });
    logs.push(stdout, stderr);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    logs.push(e.stdout, e.stderr);
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('the rotation function bundle (dist/rotation-lambda/index.mjs)', () => {
  it('is one self-contained ES module exporting an async handler', async () => {
    expect((await stat(bundle)).size).toBeGreaterThan(0);
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', 'const m = await import(process.env.BUNDLE); console.log(typeof m.handler, m.handler.constructor.name)'], {
      env: { PATH: process.env.PATH, BUNDLE: bundle, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      cwd: tmpdir(),
    });
    expect(stdout.trim()).toBe('function AsyncFunction');
  });

  it('rejects a malformed event with its code in one JSON log line', async () => {
    const { code, output } = await invoke({ Step: 'createSecret' }, 'bundle0');
    expect(code).not.toBe(0);
    expect(output).toContain('{"level":"error","event":"rotation.failed","code":"ROTATION_BAD_EVENT"');
  });

  it('rotates the admin token when Secrets Manager calls it for each step', async () => {
    const project = 'bundle1';
    const secretId = whatsappSaasCatalog({ project }).entry('ADMIN_TOKEN')!.awsId;
    const client = localClient(lsm);
    await client.send(new CreateSecretCommand({ Name: secretId, SecretString: T0 }));
    lsm.registerRotationFunction(FUNCTION_ARN, async (event) => {
      const { code, output } = await invoke(event, project);
      if (code !== 0) throw new Error(`bundle step failed: ${output.slice(0, 500)}`);
    });

    const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 90 } }));
    await lsm.whenRotationsIdle();

    expect(lsm.rotations().find((r) => r.token === VersionId)).toMatchObject({ status: 'succeeded' });
    const versions = (await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
    expect(versions.find((v) => v.VersionStages?.includes('AWSCURRENT'))?.VersionId).toBe(VersionId);
    const value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
    expect(value).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const logText = logs.join('\n');
    expect(logText).toContain('"event":"rotation.step"');
    expect(logText).not.toContain(value);
    expect(logText).not.toContain(T0);
  }, 60_000);
});
