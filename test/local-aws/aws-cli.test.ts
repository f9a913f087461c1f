import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLocalAws } from '../support/local-aws.js';

const run = promisify(execFile);
const SKIP_NOTE = 'the aws CLI is not on PATH (apt-get install awscli) - skipping the CLI wire test';

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const awsCli = findOnPath('aws');

describe('the aws CLI against the local Secrets Manager', () => {

  const lsm = useLocalAws();


  /** Runs `aws --endpoint-url <lsm> ...args` with dummy credentials and no ambient AWS settings. */
  async function aws(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
    });
    try {
      const { stdout, stderr } = await run(awsCli ?? 'aws', ['--endpoint-url', lsm.url, '--output', 'json', ...args], { env, timeout: 20_000 });
      return { stdout, stderr, exitCode: 0 };
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; code?: number };
      return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', exitCode: failed.code ?? -1 };
    }
  }

  it('creates, rotates and reads a secret with the aws CLI', async (context) => {
    context.skip(awsCli === undefined, SKIP_NOTE);

    const created = await aws('secretsmanager', 'create-secret', '--name', 'whatsapp-saas/mvp/admin-token', '--secret-string', 'first');
    const put = await aws('secretsmanager', 'put-secret-value', '--secret-id', 'whatsapp-saas/mvp/admin-token', '--secret-string', 'second');
    const read = await aws('secretsmanager', 'get-secret-value', '--secret-id', 'whatsapp-saas/mvp/admin-token');

    expect(created.exitCode).toBe(0);
    expect(put.exitCode).toBe(0);
    expect(read.exitCode).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({
      Name: 'whatsapp-saas/mvp/admin-token',
      SecretString: 'second',
      VersionStages: ['AWSCURRENT'],
      VersionId: (JSON.parse(put.stdout) as { VersionId: string }).VersionId,
    });
  });

  it('shows an AWS error with its type and exit code 255', async (context) => {
    context.skip(awsCli === undefined, SKIP_NOTE);

    const result = await aws('secretsmanager', 'get-secret-value', '--secret-id', 'does-not-exist');

    expect(result.exitCode).toBe(255);
    expect(result.stderr).toContain('(ResourceNotFoundException) when calling the GetSecretValue operation');
  });

  it('answers sts get-caller-identity', async (context) => {
    context.skip(awsCli === undefined, SKIP_NOTE);

    const result = await aws('sts', 'get-caller-identity');

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ Account: '000000000000' });
  });
});
