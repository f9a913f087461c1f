import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPolicies } from '../../src/cli/iam-policies.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { adminTokenRotation } from '../../src/rotation/admin-token.js';
import { handleRotationEvent, parseRotationEvent } from '../../src/rotation/lambda-rotation.js';
import { createSecret } from '../../src/rotation/rotation-steps.js';
import { runRotation } from '../../src/rotation/run-rotation.js';
import { captureLogger } from '../support/capture-logger.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { OutputScan, secretsCli } from './support/rotation-cli.js';
// The switch stamp (grace from the switch) is asserted in rotation-steps.test.ts; here only the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../src/engine/source.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:secrets-rotation';
const T0 = 'canary-lambda-original-P4o3I2u1';

let projects = 0;
const logger = captureLogger();
/** When set, the registered function fails this step once (as a Lambda that timed out would). */
let failOnce: string | undefined;

const lsm = useLocalAws();
beforeAll(async () => {
  lsm.registerRotationFunction(FUNCTION_ARN, async (event) => {
    const project = /^arn:.*:secret:([a-z0-9-]+)\//.exec(String((event as { SecretId: string }).SecretId))![1]!;
    if ((event as { Step: string }).Step === failOnce) {
      failOnce = undefined;
      throw new Error('function timed out');
    }
    await handleRotationEvent(event, { client: localClient(lsm), catalog: whatsappSaasCatalog({ project }), env: {}, logger });
  });
});
afterAll(async () => {
  expect(logger.text()).not.toContain(T0);
});

async function scenario(name: 'ADMIN_TOKEN' | 'META_VERIFY_TOKEN' | 'OPENAI_API_KEY' = 'ADMIN_TOKEN') {
  const project = `lam${++projects}`;
  const secretId = whatsappSaasCatalog({ project }).entry(name)!.awsId;
  const client = localClient(lsm);
  await client.send(new CreateSecretCommand({ Name: secretId, SecretString: T0 }));
  return { project, secretId, client };
}

async function stagesOf(client: SecretsManagerClient, secretId: string): Promise<Record<string, string[]>> {
  const versions = (await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()]));
}

async function rotate(client: SecretsManagerClient, secretId: string, more: { RotateImmediately?: boolean } = {}) {
  const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 90 }, ...more }));
  await lsm.whenRotationsIdle();
  return { versionId: VersionId!, view: lsm.rotations().find((r) => r.token === VersionId)! };
}

describe('the rotation function under Secrets Manager (RotateSecret on the local endpoint)', () => {
  it('rotates the admin token in four steps: a new URL-safe token current, the old one previous, graceful', async () => {
    const { secretId, client } = await scenario();
    const old = Object.keys(await stagesOf(client, secretId))[0]!;

    const { versionId, view } = await rotate(client, secretId);

    expect(view.status).toBe('succeeded');
    expect(view.steps.map((s) => [s.step, s.ok])).toEqual([
      ['createSecret', true],
      ['setSecret', true],
      ['testSecret', true],
      ['finishSecret', true],
    ]);
    // AWSPENDING stays on the new version, as after AWS's own templates: readers treat it as finished.
    expect(await stagesOf(client, secretId)).toEqual({ [versionId]: ['AWSCURRENT', 'AWSPENDING'], [old]: ['AWSPREVIOUS'] });
    const value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
    expect(value).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(described.RotationEnabled).toBe(true);
    expect(described.LastRotatedDate).toBeDefined();
    expect(logger.text()).not.toContain(value);
  });

  it('can be rolled back by the CLI, after which nothing looks unfinished', async () => {
    const { project, secretId, client } = await scenario();
    const old = Object.keys(await stagesOf(client, secretId))[0]!;
    const { versionId } = await rotate(client, secretId);
    const cwd = await mkdtemp(join(tmpdir(), 'secrets-lambda-'));
    const scan = new OutputScan(T0);

    expect((await secretsCli(lsm, scan, ['rollback', 'admin-token', '--yes', '--project', project], { cwd })).code).toBe(0);

    expect(await stagesOf(client, secretId)).toEqual({ [old]: ['AWSCURRENT', 'ROTATION_IMMEDIATE'], [versionId]: ['AWSPREVIOUS', 'ROLLED_BACK'] });
    const verify = await secretsCli(lsm, scan, ['verify', 'admin-token', '--project', project], { cwd });
    expect(verify.stdout).not.toContain('unfinished rotation: version');
    scan.expectClean();
  });

  it('rotates the Meta verify token too', async () => {
    const { secretId, client } = await scenario('META_VERIFY_TOKEN');
    const { view } = await rotate(client, secretId);
    expect(view.status).toBe('succeeded');
    expect((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it('passes the configuration test of RotateImmediately false without changing the value', async () => {
    const { secretId, client } = await scenario();
    const before = await stagesOf(client, secretId);

    const { view } = await rotate(client, secretId, { RotateImmediately: false });

    expect(view.kind).toBe('test');
    expect(view.status).toBe('succeeded');
    expect(await stagesOf(client, secretId)).toEqual(before);
    expect((await client.send(new DescribeSecretCommand({ SecretId: secretId }))).NextRotationDate).toBeDefined();
  });

  it('refuses a secret no module rotates, leaving the value as it was', async () => {
    const { secretId, client } = await scenario('OPENAI_API_KEY');

    const { view } = await rotate(client, secretId);

    expect(view.status).toBe('failed');
    expect(view.steps[0]).toMatchObject({ step: 'createSecret', ok: false, errorType: 'RotationError' });
    expect(view.steps[0]!.errorMessage).toMatch(/No rotation module for lam\d+\/mvp\/openai-api-key/);
    expect((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString).toBe(T0);
  });

  it('resumes a rotation that failed half way when its steps run again, each as often as needed', async () => {
    const { project, secretId, client } = await scenario();
    failOnce = 'testSecret';
    const { versionId, view } = await rotate(client, secretId);
    expect(view.status).toBe('failed');
    expect((await stagesOf(client, secretId))[versionId]).toEqual(['AWSPENDING']);

    const deps = { client, catalog: whatsappSaasCatalog({ project }), env: {}, logger };
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret', 'finishSecret', 'createSecret']) {
      await handleRotationEvent({ SecretId: secretId, ClientRequestToken: versionId, Step }, deps);
    }

    const stages = await stagesOf(client, secretId);
    expect(stages[versionId]).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(Object.values(stages).filter((s) => s.includes('AWSCURRENT'))).toHaveLength(1);
  });

  it('lets the CLI finish a rotation the function left pending, handing its token over', async () => {
    const { project, secretId, client } = await scenario();
    failOnce = 'finishSecret';
    const { versionId } = await rotate(client, secretId);
    const cwd = await mkdtemp(join(tmpdir(), 'secrets-lambda-'));
    const scan = new OutputScan(T0);

    expect((await secretsCli(lsm, scan, ['rotate', 'admin-token', '--yes', '--project', project], { cwd })).code).toBe(0);

    expect((await stagesOf(client, secretId))[versionId]).toContain('AWSCURRENT');
    const value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
    expect((await readFile(join(cwd, `.admin-token-new-${versionId}.txt`), 'utf8')).trim()).toBe(value);
    scan.secret(value);
    scan.expectClean();
  });
});

describe('the rotation function and a CLI rotation overlapping (issue 15, defect 1)', () => {
  it('RotateSecret is refused while a CLI rotation holds the claim, which then finishes', async () => {
    const { secretId, client } = await scenario();
    const versionId = randomUUID();
    let refused: unknown;

    await runRotation({
      module: adminTokenRotation,
      client,
      secretId,
      versionId,
      deps: {},
      mode: 'graceful',
      onPending: async () => {
        refused = await client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: FUNCTION_ARN })).catch((e: unknown) => e);
      },
    });

    expect(refused).toMatchObject({ name: 'InvalidRequestException' });
    expect((await stagesOf(client, secretId))[versionId]).toEqual(['AWSCURRENT']);
  });

  it('a CLI rotation started after the function took the claim is refused, and takes nothing from it', async () => {
    const { secretId, client } = await scenario();
    failOnce = 'testSecret';
    const { versionId } = await rotate(client, secretId);
    const before = await stagesOf(client, secretId);

    await expect(createSecret(adminTokenRotation, { client, secretId, versionId: randomUUID(), deps: {} })).rejects.toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: versionId });

    expect(await stagesOf(client, secretId)).toEqual(before);
    expect(before[versionId]).toEqual(['AWSPENDING']);
  });
});

describe('the rotation function under its committed execution-role policy', () => {
  it('makes only calls secrets-rotation-function-policy.json allows on the token secrets', async () => {
    const { secretId, client } = await scenario();
    lsm.resetCounts();
    await rotate(client, secretId);
    const operations = Object.keys(lsm.counts()).filter((op) => op !== 'RotateSecret');
    expect(operations).toEqual(expect.arrayContaining(['DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage']));
    const policy = buildPolicies({ account: '123456789012', region: 'us-east-1', prefix: 'whatsapp-saas/mvp' }).rotationFunction;
    for (const name of ['admin-token', 'meta-verify-token']) {
      for (const op of operations) {
        const result = await runSimulation(
          {
            identityPolicies: [{ name: 'rotation', policy: policy as never }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            request: {
              action: `secretsmanager:${op}`,
              principal: 'arn:aws:iam::123456789012:role/rotation-function',
              resource: { accountId: '123456789012', resource: `arn:aws:secretsmanager:us-east-1:123456789012:secret:whatsapp-saas/mvp/${name}-AbC123` },
              contextVariables: {},
            },
          },
          {},
        );
        expect(result.resultType === 'error' ? 'error' : result.overallResult, `${op} on ${name}`).toBe('Allowed');
      }
    }
  });
});

describe('handleRotationEvent checks, as AWS rotation templates do', () => {
  const call = (event: unknown, client: SecretsManagerClient, project: string) =>
    handleRotationEvent(event, { client, catalog: whatsappSaasCatalog({ project }), env: {}, logger });

  it('refuses a secret whose rotation is not enabled', async () => {
    const { project, secretId, client } = await scenario();
    const event = { SecretId: secretId, ClientRequestToken: randomUUID(), Step: 'createSecret' };
    await expect(call(event, client, project)).rejects.toMatchObject({ code: 'ROTATION_NOT_ENABLED' });
  });

  it('refuses a token that is not a version of the secret, and one not under AWSPENDING', async () => {
    const { project, secretId, client } = await scenario();
    await rotate(client, secretId);
    const previous = Object.entries(await stagesOf(client, secretId)).find(([, s]) => s.includes('AWSPREVIOUS'))![0];

    await expect(call({ SecretId: secretId, ClientRequestToken: randomUUID(), Step: 'setSecret' }, client, project)).rejects.toMatchObject({ code: 'ROTATION_UNKNOWN_VERSION' });
    await expect(call({ SecretId: secretId, ClientRequestToken: previous, Step: 'setSecret' }, client, project)).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING' });
  });

  it('does nothing for a version already AWSCURRENT', async () => {
    const { project, secretId, client } = await scenario();
    const { versionId } = await rotate(client, secretId);
    const before = await stagesOf(client, secretId);

    await call({ SecretId: secretId, ClientRequestToken: versionId, Step: 'finishSecret' }, client, project);

    expect(await stagesOf(client, secretId)).toEqual(before);
    expect(logger.lines.some((l) => l.obj.event === 'rotation.already_current' && l.obj.versionId === versionId)).toBe(true);
  });

  it('refuses a malformed event naming the field, before calling AWS', () => {
    expect(() => parseRotationEvent(null)).toThrow(/no valid SecretId/);
    expect(() => parseRotationEvent({ SecretId: 'x', ClientRequestToken: 'short', Step: 'createSecret' })).toThrow(/no valid ClientRequestToken/);
    expect(() => parseRotationEvent({ SecretId: 'x', ClientRequestToken: randomUUID(), Step: 'dropSecret' })).toThrow(/Step must be one of createSecret, setSecret, testSecret, finishSecret/);
  });
});
