import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { createCredentialClients } from '../../src/rotation/create-credential-clients.js';
import { handleRotationEvent } from '../../src/rotation/lambda-rotation.js';
import { captureLogger } from '../support/capture-logger.js';
import { localClient, startBackdatedLocalAws } from '../support/local-aws.js';
import { cliDeps } from './support.js';

const DAY = 86_400_000;
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:secrets-rotation';
const ADMIN_ID = 'whatsapp-saas/mvp/admin-token';
// The machine's PostgreSQL (trust) and Redis (no password for the default user, so any password
// logs in): the function's configuration test of the database and Redis passwords logs in with them.
const VALUES =
  'META_APP_SECRET=canary-enable-app-1-0123456789abcdefghij\nDATABASE_URL=postgresql://postgres:canary-enable-db-2@127.0.0.1:5432/postgres\nREDIS_URL=redis://default:canary-enable-redis-4@127.0.0.1:6379\nOPENAI_API_KEY=canary-enable-key-3\n';

let lsm: LocalSecretsManager;
let setOffsetMs: (ms: number) => void;
const outputs: string[] = [];

beforeEach(async () => {
  ({ lsm, setOffsetMs } = await startBackdatedLocalAws());
  lsm.registerRotationFunction(FUNCTION_ARN, (event) =>
    handleRotationEvent(event, { client: localClient(lsm), catalog: whatsappSaasCatalog(), env: {}, logger: captureLogger(), clients: createCredentialClients() }),
  );
});
afterEach(async () => {
  await lsm.close();
  expect(outputs.join('\n')).not.toMatch(/canary-enable-/);
  outputs.length = 0;
});

async function secrets(argv: string[], cwd?: string, now?: () => number) {
  const c = await cliDeps(lsm, { ...(cwd !== undefined && { cwd }), ...(now !== undefined && { now }) });
  const code = await run(argv, c.deps);
  outputs.push(c.stdout(), c.stderr());
  return { code, stdout: c.stdout(), stderr: c.stderr(), cwd: c.deps.cwd };
}

describe('secrets setup --enable-rotation', () => {
  it('schedules the admin token every 90 days and the database and Redis passwords every 30 through RotateSecret, testing the function without rotating, and a re-run changes nothing', async () => {
    const first = await secrets(['setup', '--yes', '--out', 'pol', '--from-env', '/dev/null']);
    await writeFile(join(first.cwd, 'prod.env'), VALUES);
    const before = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: ADMIN_ID }))).VersionId;

    const { code, stdout } = await secrets(['setup', '--yes', '--out', 'pol', '--from-env', 'prod.env', '--enable-rotation', FUNCTION_ARN], first.cwd);
    await lsm.whenRotationsIdle();

    expect(code).toBe(0);
    expect(stdout).toContain(`ADMIN_TOKEN                rotation every 90 days: enabled  (${FUNCTION_ARN})`);
    expect(stdout).toContain(`DATABASE_URL               rotation every 30 days: enabled  (${FUNCTION_ARN})`);
    expect(stdout).toContain(`REDIS_URL                  rotation every 30 days: enabled  (${FUNCTION_ARN})`);
    expect(stdout).not.toMatch(/META_VERIFY_TOKEN\s+rotation/);
    const described = await localClient(lsm).send(new DescribeSecretCommand({ SecretId: ADMIN_ID }));
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 90 } });
    expect(await localClient(lsm).send(new DescribeSecretCommand({ SecretId: 'whatsapp-saas/mvp/database-url' }))).toMatchObject({ RotationEnabled: true, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(lsm.rotations().map((r) => [r.secretName, r.kind, r.status])).toEqual([
      [ADMIN_ID, 'test', 'succeeded'],
      ['whatsapp-saas/mvp/database-url', 'test', 'succeeded'],
      ['whatsapp-saas/mvp/redis-url', 'test', 'succeeded'],
    ]);
    expect((await localClient(lsm).send(new GetSecretValueCommand({ SecretId: ADMIN_ID }))).VersionId).toBe(before);

    lsm.resetCounts();
    const again = await secrets(['setup', '--yes', '--out', 'pol', '--from-env', 'prod.env', '--enable-rotation', FUNCTION_ARN, '--json'], first.cwd);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).rotation).toEqual([
      { name: 'ADMIN_TOKEN', secretId: ADMIN_ID, everyDays: 90, action: 'unchanged' },
      { name: 'DATABASE_URL', secretId: 'whatsapp-saas/mvp/database-url', everyDays: 30, action: 'unchanged' },
      { name: 'REDIS_URL', secretId: 'whatsapp-saas/mvp/redis-url', everyDays: 30, action: 'unchanged' },
    ]);
    expect(lsm.counts().RotateSecret).toBeUndefined();
  });

  it('shows RotationEnabled and the next date in status, and Secrets Manager rotates the token once the period has passed', async () => {
    setOffsetMs(-DAY);
    const { cwd } = await secrets(['setup', '--yes', '--out', 'pol', '--from-env', '/dev/null', '--enable-rotation', FUNCTION_ARN]);
    await lsm.whenRotationsIdle();
    setOffsetMs(0);

    const status = await secrets(['status', '--json'], cwd);
    const admin = (JSON.parse(status.stdout) as { secrets: { name: string; rotationEnabled: boolean; nextRotationDate: string | null }[] }).secrets.find((s) => s.name === 'ADMIN_TOKEN')!;
    expect(admin.rotationEnabled).toBe(true);
    expect(Date.parse(admin.nextRotationDate!)).toBeGreaterThan(Date.now() + 88 * DAY);
    expect((await secrets(['status'], cwd)).stdout).toMatch(new RegExp(`ADMIN_TOKEN .*90 days \\(ok\\)\\s+on, next ${admin.nextRotationDate!.slice(0, 10)}`));
    expect((await secrets(['status'], cwd)).stdout).toMatch(/OPENAI_API_KEY .* off +-\n/);

    const before = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: ADMIN_ID }))).VersionId;
    setOffsetMs(90 * DAY);
    expect(lsm.runDueRotations()).toHaveLength(1);
    await lsm.whenRotationsIdle();
    const after = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: ADMIN_ID }));
    expect(after.VersionId).not.toBe(before);
    expect(after.SecretString).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it('refuses something that is not a Lambda function ARN before asking anything', async () => {
    const { code, stderr } = await secrets(['setup', '--yes', '--enable-rotation', 'my-function']);
    expect(code).toBe(2);
    expect(stderr).toContain("--enable-rotation takes the rotation function's Lambda ARN");
  });
});
