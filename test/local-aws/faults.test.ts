import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultSettings, NO_FAULTS, parseFaults, RateWindow } from '../../src/local-aws/faults.js';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { secretsManagerClient } from './sdk-client.js';
import { useLocalAws } from '../support/local-aws.js';

describe('FaultSettings', () => {
  it('merges partial settings into the faults in force', () => {
    const settings = new FaultSettings();
    settings.set({ throttle: true });
    settings.set({ denySecrets: ['a'] });

    expect(settings.get()).toEqual({ ...NO_FAULTS, throttle: true, denySecrets: ['a'] });
  });

  it('clears back to no faults', () => {
    const settings = new FaultSettings();
    settings.set({ outage: true, latencyMs: 5 });
    settings.clear();

    expect(settings.get()).toEqual(NO_FAULTS);
  });

  it('rejects unknown and mistyped faults and changes nothing', () => {
    const settings = new FaultSettings();
    expect(() => parseFaults({ outtage: true })).toThrow('unknown fault: outtage');
    expect(() => parseFaults({ latencyMs: -1 })).toThrow(TypeError);
    expect(() => parseFaults({ denySecrets: 'a' })).toThrow('denySecrets must be an array of strings');
    expect(() => settings.set({ hang: 'yes' } as unknown as { hang: boolean })).toThrow(TypeError);
    expect(settings.get()).toEqual(NO_FAULTS);
  });
});

describe('local Secrets Manager fault injection through the AWS SDK', () => {
  let client: SecretsManagerClient;

  const lsm = useLocalAws();
  beforeAll(async () => {
    client = secretsManagerClient(lsm.url);
  });

  afterAll(async () => {
    client.destroy();
  });

  beforeEach(async () => {
    lsm.clearFaults();
    lsm.resetStore();
    for (const name of ['app/a', 'app/b', 'app/c']) {
      await client.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }));
    }
    lsm.resetCounts();
  });

  it('adds latencyMs to every response', async () => {
    lsm.setFaults({ latencyMs: 150 });

    const started = performance.now();
    await client.send(new GetSecretValueCommand({ SecretId: 'app/a' }));
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });

    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 140);
  });

  it('answers every call with a 500 InternalServiceError during an outage', async () => {
    lsm.setFaults({ outage: true });

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).rejects.toMatchObject({
      name: 'InternalServiceError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
  });

  it('lets the SDK retry an outage as a transient error, and counts every attempt', async () => {
    lsm.setFaults({ outage: true });
    const retrying = secretsManagerClient(lsm.url, { maxAttempts: 3 });

    await expect(retrying.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).rejects.toMatchObject({
      name: 'InternalServiceError',
      $metadata: { attempts: 3 },
    });
    expect(lsm.counts()).toEqual({ GetSecretValue: 3 });
    retrying.destroy();
  });

  it('answers ThrottlingException when throttling', async () => {
    lsm.setFaults({ throttle: true });

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('denies the secrets in denySecrets to Get and Put, by name or ARN, and no others', async () => {
    lsm.setFaults({ denySecrets: ['app/b'] });
    const arn = (await client.send(new DescribeSecretCommand({ SecretId: 'app/b' }))).ARN;

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/b' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('secretsmanager:GetSecretValue') as unknown,
    });
    await expect(client.send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(client.send(new PutSecretValueCommand({ SecretId: 'app/b', SecretString: 'x' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).resolves.toMatchObject({ SecretString: 'value of app/a' });
  });

  it('reports a denied secret in Errors of a batch while the others succeed', async () => {
    lsm.setFaults({ denySecrets: ['app/b'] });

    const result = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/a', 'app/b', 'app/c'] }));

    expect(result.SecretValues?.map((v) => v.Name)).toEqual(['app/a', 'app/c']);
    expect(result.Errors).toEqual([
      { SecretId: 'app/b', ErrorCode: 'AccessDeniedException', Message: expect.stringContaining('app/b') as unknown },
    ]);
  });

  it('denies a whole operation in denyOperations while the others still work', async () => {
    lsm.setFaults({ denyOperations: ['BatchGetSecretValue'] });

    await expect(client.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/a', 'app/b'] }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('secretsmanager:BatchGetSecretValue') as unknown,
    });
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).resolves.toMatchObject({ SecretString: 'value of app/a' });
  });

  it('denies UpdateSecretVersionStage of the labels in denyStageMoves only', async () => {
    const put = await client.send(new PutSecretValueCommand({ SecretId: 'app/a', SecretString: 'next of app/a', VersionStages: ['OTHER'] }));
    lsm.setFaults({ denyStageMoves: ['AWSCURRENT'] });

    await expect(client.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/a', VersionStage: 'AWSCURRENT', MoveToVersionId: put.VersionId }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(client.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/a', VersionStage: 'AWSPENDING', MoveToVersionId: put.VersionId }))).resolves.toBeDefined();
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).resolves.toMatchObject({ SecretString: 'value of app/a' });
  });

  it('fails the secrets in failInBatch inside a batch only', async () => {
    lsm.setFaults({ failInBatch: ['app/c'] });

    const result = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/a', 'app/b', 'app/c'] }));

    expect(result.SecretValues?.map((v) => v.Name)).toEqual(['app/a', 'app/b']);
    expect(result.Errors).toEqual([{ SecretId: 'app/c', ErrorCode: 'InternalServiceError', Message: 'An error occurred on the server side.' }]);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/c' }))).resolves.toMatchObject({ SecretString: 'value of app/c' });
  });

  it('behaves normally again once faults are cleared', async () => {
    lsm.setFaults({ outage: true, throttle: true, denyOperations: ['GetSecretValue'] });
    lsm.clearFaults();

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).resolves.toMatchObject({ SecretString: 'value of app/a' });
  });
});

describe('local Secrets Manager hang fault', () => {
  let client: SecretsManagerClient | undefined;

  const lsm = useLocalAws({ each: true });
  beforeEach(async () => {
    const setup = secretsManagerClient(lsm.url);
    await setup.send(new CreateSecretCommand({ Name: 'app/a', SecretString: 'v' }));
    setup.destroy();
    lsm.resetCounts();
    lsm.setFaults({ hang: true });
  });

  afterEach(async () => {
    client?.destroy();
  });

  it('never answers, so an SDK abortSignal ends the call, and close() still resolves', async () => {
    client = secretsManagerClient(lsm.url);

    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'app/a' }), { abortSignal: AbortSignal.timeout(200) }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(lsm.counts()).toEqual({ GetSecretValue: 1 });
    await expect(lsm.close()).resolves.toBeUndefined();
  });

  it('never answers, so the SDK requestTimeout (with throwOnRequestTimeout) ends the call', async () => {
    client = secretsManagerClient(lsm.url, { requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } });

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('destroys a hung request on close() so nothing is left pending', async () => {
    client = secretsManagerClient(lsm.url);
    const pending = client.send(new GetSecretValueCommand({ SecretId: 'app/a' }));
    const settled = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => lsm.counts().GetSecretValue).toBe(1);

    await lsm.close();

    expect(await settled).toBe('failed');
  });
});

describe('rateLimitPerSecond', () => {
  it('admits that many calls of one operation in each second of the clock, counting operations apart', () => {
    const window = new RateWindow();
    const admitted = (op: string, nowMs: number) => window.admit(op, nowMs, 2);

    expect([admitted('Get', 1_000), admitted('Get', 1_500), admitted('Get', 1_999), admitted('Batch', 1_999)]).toEqual([true, true, false, true]);
    expect([admitted('Get', 2_000), admitted('Get', 2_999), admitted('Get', 2_999)]).toEqual([true, true, false]);
    expect(window.admit('Get', 2_999, 0)).toBe(true);
    expect(() => parseFaults({ rateLimitPerSecond: 1.5 })).toThrow('rateLimitPerSecond must be a non-negative integer');
    expect(() => parseFaults({ rateLimitPerSecond: -1 })).toThrow(TypeError);
    expect(parseFaults({ rateLimitPerSecond: 100 })).toEqual({ rateLimitPerSecond: 100 });
  });

  it('throttles calls over the limit with ThrottlingException until the endpoint’s clock moves to the next second', async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const lsm = await startLocalSecretsManager({ clock: { now: () => nowMs } });
    const client = secretsManagerClient(lsm.url);
    try {
      await client.send(new CreateSecretCommand({ Name: 'app/r', SecretString: 'v' }));
      lsm.setFaults({ rateLimitPerSecond: 2 });
      nowMs += 1_000;
      const get = () => client.send(new GetSecretValueCommand({ SecretId: 'app/r' })).then(() => 'ok', (e: { name: string }) => e.name);

      const first = [await get(), await get(), await get()];
      nowMs += 1_000;

      expect(first).toEqual(['ok', 'ok', 'ThrottlingException']);
      expect(await get()).toBe('ok');
    } finally {
      client.destroy();
      await lsm.close();
    }
  });
});
