import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RotationEvent } from '../../src/local-aws/local-secrets-manager.js';
import { secretsManagerClient } from './sdk-client.js';
import { waitFor } from '../service/support/wait-for.js';
import { useLocalAws } from '../support/local-aws.js';

const START_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-test';

/**
 * A rotation function shaped like AWS's template: it checks the version is staged for rotation,
 * creates AWSPENDING with GetRandomPassword, and in finishSecret moves AWSCURRENT and drops
 * AWSPENDING. `failAt` makes one step throw.
 */
function templateFunction(client: SecretsManagerClient, events: RotationEvent[], options: { failAt?: string; block?: Promise<void> } = {}) {
  return async (event: RotationEvent): Promise<void> => {
    events.push(event);
    const { SecretId: arn, ClientRequestToken: token, Step: step } = event;
    const metadata = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    if (!metadata.RotationEnabled) throw new Error('rotation not enabled');
    const stages = metadata.VersionIdsToStages?.[token];
    if (stages === undefined) throw new Error('version has no stage for rotation');
    if (stages.includes('AWSCURRENT')) return;
    if (!stages.includes('AWSPENDING')) throw new Error('version not AWSPENDING');
    if (step === options.failAt) throw Object.assign(new Error(`planned failure in ${step}`), { name: 'PlannedFailure' });
    if (step === 'setSecret' && options.block !== undefined) await options.block;
    if (step === 'createSecret') {
      try {
        await client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' }));
      } catch {
        const { RandomPassword } = await client.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }));
        await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: RandomPassword, VersionStages: ['AWSPENDING'] }));
      }
    }
    if (step === 'finishSecret') {
      const current = Object.entries(metadata.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
      await client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
    }
  };
}

describe('rotation on the local Secrets Manager, through the AWS SDK', () => {
  const clock = { nowMs: START_MS, now(): number { return this.nowMs; } };
  let client: SecretsManagerClient;

  const lsm = useLocalAws({ clock });
  beforeAll(async () => {
    client = secretsManagerClient(lsm.url);
  });

  afterAll(async () => {
    client.destroy();
  });

  beforeEach(async () => {
    await lsm.whenRotationsIdle();
    lsm.resetStore();
    lsm.unregisterRotationFunction(LAMBDA);
    clock.nowMs = START_MS;
  });

  async function secret(name: string, value = 'first-value'): Promise<string> {
    const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return out.ARN!;
  }

  async function current(name: string): Promise<string | undefined> {
    return (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  }

  it('calls the four steps in order with the secret ARN and the new version id, and rotates', async () => {
    const arn = await secret('rot/ok');
    const events: RotationEvent[] = [];
    lsm.registerRotationFunction(LAMBDA, templateFunction(client, events));
    const token = '11111111-2222-4333-8444-555555555555';

    const out = await client.send(
      new RotateSecretCommand({ SecretId: 'rot/ok', ClientRequestToken: token, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } }),
    );
    await lsm.whenRotationsIdle();

    expect(out).toMatchObject({ ARN: arn, Name: 'rot/ok', VersionId: token });
    expect(events).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((Step) => ({ SecretId: arn, ClientRequestToken: token, Step })));
    const value = await current('rot/ok');
    expect(value).not.toBe('first-value');
    expect(value).toHaveLength(40);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rot/ok' }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: LAMBDA,
      RotationRules: { AutomaticallyAfterDays: 30 },
      VersionIdsToStages: { [token]: ['AWSCURRENT'] },
    });
    expect(described.LastRotatedDate?.getTime()).toBe(START_MS);
    expect(described.NextRotationDate?.getTime()).toBe(Date.UTC(2026, 2, 31));
    expect(lsm.rotations()).toMatchObject([{ secretName: 'rot/ok', token, status: 'succeeded', kind: 'rotation' }]);
  });

  it('answers at once and rotates in the background, as AWS does', async () => {
    await secret('rot/async');
    let release!: () => void;
    const block = new Promise<void>((resolve) => (release = resolve));
    lsm.registerRotationFunction(LAMBDA, templateFunction(client, [], { block }));

    const out = await client.send(new RotateSecretCommand({ SecretId: 'rot/async', RotationLambdaARN: LAMBDA, RotationRules: { ScheduleExpression: 'rate(10 days)' } }));
    await waitFor(() => lsm.rotations()[0]?.steps.length === 1);

    expect(lsm.rotations()[0]).toMatchObject({ status: 'running', token: out.VersionId });
    await expect(client.send(new RotateSecretCommand({ SecretId: 'rot/async' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });
    release();
    await lsm.whenRotationsIdle();
    expect(lsm.rotations()[0]!.status).toBe('succeeded');
  });

  it('stops at a failing step, leaves AWSPENDING where it is, and refuses the next rotation', async () => {
    await secret('rot/fail');
    lsm.registerRotationFunction(LAMBDA, templateFunction(client, [], { failAt: 'testSecret' }));

    const out = await client.send(new RotateSecretCommand({ SecretId: 'rot/fail', RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 7 } }));
    await lsm.whenRotationsIdle();

    expect(lsm.rotations()[0]).toMatchObject({
      status: 'failed',
      steps: [
        { step: 'createSecret', ok: true },
        { step: 'setSecret', ok: true },
        { step: 'testSecret', ok: false, errorType: 'PlannedFailure', errorMessage: 'planned failure in testSecret' },
      ],
    });
    expect(await current('rot/fail')).toBe('first-value');
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'rot/fail' }));
    expect(versions.Versions?.find((v) => v.VersionId === out.VersionId)?.VersionStages).toEqual(['AWSPENDING']);
    await expect(client.send(new RotateSecretCommand({ SecretId: 'rot/fail' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'rot/fail' }))).LastRotatedDate).toBeUndefined();
  });

  it('keeps the placeholder version empty until createSecret fills it', async () => {
    await secret('rot/empty');
    let seen: unknown;
    lsm.registerRotationFunction(LAMBDA, async (event) => {
      if (event.Step !== 'createSecret') throw new Error('stop here');
      seen = await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken })).catch((e: Error) => e.name);
    });

    await client.send(new RotateSecretCommand({ SecretId: 'rot/empty', RotationLambdaARN: LAMBDA }));
    await lsm.whenRotationsIdle();

    expect(seen).toBe('ResourceNotFoundException');
  });

  it('refuses a function it cannot invoke and a secret with no function', async () => {
    await secret('rot/nofn');

    await expect(client.send(new RotateSecretCommand({ SecretId: 'rot/nofn', RotationLambdaARN: `${LAMBDA}-missing` }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(client.send(new RotateSecretCommand({ SecretId: 'rot/nofn' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'rot/nofn' }))).RotationEnabled).toBe(false);
  });

  it.each([
    [{ AutomaticallyAfterDays: 30, ScheduleExpression: 'rate(30 days)' }, 'InvalidParameterException'],
    [{ AutomaticallyAfterDays: 0 }, 'ValidationException'],
    [{ AutomaticallyAfterDays: 1001 }, 'ValidationException'],
    [{ ScheduleExpression: 'rate(2 hours)' }, 'InvalidParameterException'],
    [{ ScheduleExpression: 'every day' }, 'InvalidParameterException'],
    [{ ScheduleExpression: 'cron(0 16 1,15 * ?)' }, 'InvalidParameterException'],
    [{ ScheduleExpression: 'rate(10 days)', Duration: '30h' }, 'InvalidParameterException'],
    [{ Duration: '3h' }, 'InvalidParameterException'],
  ])('refuses rotation rules AWS refuses (%#)', async (rules, error) => {
    await secret('rot/rules');
    lsm.registerRotationFunction(LAMBDA, async () => {});

    await expect(client.send(new RotateSecretCommand({ SecretId: 'rot/rules', RotationLambdaARN: LAMBDA, RotationRules: rules }))).rejects.toMatchObject({ name: error });
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'rot/rules' }))).RotationEnabled).toBe(false);
  });

  it('dates the next rotation from a cron() schedule in UTC, Sunday being 1', async () => {
    await secret('rot/cron');
    lsm.registerRotationFunction(LAMBDA, templateFunction(client, []));

    // 10:00 UTC on the first Monday of each month; the clock stands at Sunday 1 March 2026, noon.
    await client.send(
      new RotateSecretCommand({ SecretId: 'rot/cron', RotationLambdaARN: LAMBDA, RotationRules: { ScheduleExpression: 'cron(0 10 ? * 2#1 *)', Duration: '2h' } }),
    );
    await lsm.whenRotationsIdle();

    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rot/cron' }));
    expect(described.RotationRules).toEqual({ ScheduleExpression: 'cron(0 10 ? * 2#1 *)', Duration: '2h' });
    expect(described.NextRotationDate?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
  });

  it('only tests the configuration with RotateImmediately false, then removes its AWSPENDING', async () => {
    await secret('rot/later');
    const events: RotationEvent[] = [];
    lsm.registerRotationFunction(LAMBDA, async (event) => void events.push(event));

    await client.send(new RotateSecretCommand({ SecretId: 'rot/later', RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }));
    await lsm.whenRotationsIdle();

    expect(events.map((e) => e.Step)).toEqual(['testSecret']);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rot/later' }));
    expect(Object.values(described.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
    expect(described).toMatchObject({ RotationEnabled: true });
    expect(described.LastRotatedDate).toBeUndefined();
    expect(described.NextRotationDate?.getTime()).toBe(Date.UTC(2026, 2, 31));
    expect(await current('rot/later')).toBe('first-value');
  });

  it('rotates again when the injected clock reaches NextRotationDate and it is asked to run due rotations', async () => {
    await secret('rot/due');
    lsm.registerRotationFunction(LAMBDA, templateFunction(client, []));
    await client.send(new RotateSecretCommand({ SecretId: 'rot/due', RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 1 } }));
    await lsm.whenRotationsIdle();
    const first = await current('rot/due');

    expect(lsm.runDueRotations()).toEqual([]);
    clock.nowMs = Date.UTC(2026, 2, 2, 0, 0, 1);
    const started = lsm.runDueRotations();
    await lsm.whenRotationsIdle();

    expect(started).toHaveLength(1);
    expect(await current('rot/due')).not.toBe(first);
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'rot/due' }))).NextRotationDate?.getTime()).toBe(Date.UTC(2026, 2, 3));
  });

  it('cancels rotation: no further step, rotation disabled, the unfinished version named', async () => {
    await secret('rot/cancel');
    let release!: () => void;
    const block = new Promise<void>((resolve) => (release = resolve));
    const events: RotationEvent[] = [];
    lsm.registerRotationFunction(LAMBDA, templateFunction(client, events, { block }));
    const out = await client.send(new RotateSecretCommand({ SecretId: 'rot/cancel', RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await waitFor(() => events.length === 2);

    const cancelled = await client.send(new CancelRotateSecretCommand({ SecretId: 'rot/cancel' }));
    release();
    await lsm.whenRotationsIdle();

    expect(cancelled).toMatchObject({ Name: 'rot/cancel', VersionId: out.VersionId });
    expect(events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);
    expect(lsm.rotations()[0]!.status).toBe('cancelled');
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rot/cancel' }));
    expect(described.RotationEnabled).toBe(false);
    expect(described.NextRotationDate).toBeUndefined();
    await expect(client.send(new CancelRotateSecretCommand({ SecretId: 'rot/cancel' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });

  it('generates random passwords with the requested length and character types', async () => {
    const plain = await client.send(new GetRandomPasswordCommand({}));
    const digits = await client.send(new GetRandomPasswordCommand({ PasswordLength: 12, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true }));
    const mixed = await client.send(new GetRandomPasswordCommand({ PasswordLength: 4, ExcludePunctuation: true, ExcludeCharacters: 'aA0' }));

    expect(plain.RandomPassword).toHaveLength(32);
    expect(digits.RandomPassword).toMatch(/^\d{12}$/);
    expect(mixed.RandomPassword).toMatch(/^(?=.*[b-z])(?=.*[B-Z])(?=.*[1-9])[b-zB-Z1-9]{4}$/);
    await expect(client.send(new GetRandomPasswordCommand({ PasswordLength: 2 }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});

describe('a rotation function over HTTP', () => {
  let client: SecretsManagerClient;
  let server: Server;
  let functionUrl: string;
  const received: RotationEvent[] = [];
  let failStep: string | undefined;

  const lsm = useLocalAws();
  beforeAll(async () => {
    client = secretsManagerClient(lsm.url);
    // The shape of Lambda's Runtime Interface Emulator: a function error is still HTTP 200.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const event = JSON.parse(body) as RotationEvent;
        received.push(event);
        if (event.Step === failStep) {
          res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
          res.end(JSON.stringify({ errorType: 'Error', errorMessage: 'set failed' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('null');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2015-03-31/functions/function/invocations`;
  });

  afterAll(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs each step to a function registered over the control plane', async () => {
    const registered = await fetch(`${lsm.url}/_local/rotation-functions`, { method: 'PUT', body: JSON.stringify({ arn: LAMBDA, url: functionUrl }) });
    expect(registered.status).toBe(200);
    const arn = (await client.send(new CreateSecretCommand({ Name: 'http/ok', SecretString: 'v' }))).ARN;

    const out = await client.send(new RotateSecretCommand({ SecretId: 'http/ok', RotationLambdaARN: LAMBDA }));
    await lsm.whenRotationsIdle();

    expect(received.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(received.every((e) => e.SecretId === arn && e.ClientRequestToken === out.VersionId)).toBe(true);
    const history = (await (await fetch(`${lsm.url}/_local/rotations`)).json()) as Array<{ status: string }>;
    expect(history.map((r) => r.status)).toEqual(['succeeded']);
  });

  it('takes a function error in Lambda form (200 with X-Amz-Function-Error) as a failed step', async () => {
    received.length = 0;
    failStep = 'setSecret';
    await client.send(new CreateSecretCommand({ Name: 'http/fail', SecretString: 'v' }));

    await client.send(new RotateSecretCommand({ SecretId: 'http/fail', RotationLambdaARN: LAMBDA }));
    await lsm.whenRotationsIdle();

    expect(received.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);
    expect(lsm.rotations().at(-1)).toMatchObject({ status: 'failed', steps: [{ ok: true }, { step: 'setSecret', ok: false, errorType: 'Error', errorMessage: 'set failed' }] });
  });

  it('refuses a rotation function that is not on a loopback address', async () => {
    const res = await fetch(`${lsm.url}/_local/rotation-functions`, {
      method: 'PUT',
      body: JSON.stringify({ arn: `${LAMBDA}-remote`, url: 'http://192.0.2.10/invoke' }),
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'the rotation function URL must be on a loopback address' });
  });
});

