import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { secretsManagerClient } from './sdk-client.js';
import { useLocalAws } from '../support/local-aws.js';

const SIGNED = { Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, Signature=x' };

describe('startLocalSecretsManager', () => {
  it('refuses to listen on a non-loopback host', async () => {
    await expect(startLocalSecretsManager({ host: '0.0.0.0' })).rejects.toThrow(RangeError);
  });

  it('listens on a free loopback port and closes idempotently', async () => {
    const lsm = await startLocalSecretsManager({ port: 0 });

    expect(lsm.url).toBe(`http://127.0.0.1:${lsm.port}`);
    expect(lsm.port).toBeGreaterThan(0);
    await lsm.close();
    await expect(lsm.close()).resolves.toBeUndefined();
  });

  it('puts the configured region in ARNs', async () => {
    const lsm = await startLocalSecretsManager({ region: 'eu-west-3' });
    const client = secretsManagerClient(lsm.url, { region: 'eu-west-3' });
    try {
      const created = await client.send(new CreateSecretCommand({ Name: 'regional', SecretString: 'v' }));
      expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-3:000000000000:secret:regional-/);
    } finally {
      client.destroy();
      await lsm.close();
    }
  });
});

describe('local Secrets Manager wire protocol', () => {
  let client: SecretsManagerClient;

  const lsm = useLocalAws();
  beforeAll(async () => {
    client = secretsManagerClient(lsm.url);
  });

  afterAll(async () => {
    client.destroy();
  });

  beforeEach(() => {
    lsm.resetStore();
    lsm.clearFaults();
    lsm.resetCounts();
  });

  function post(target: string | undefined, body: string, headers: Record<string, string> = SIGNED): Promise<Response> {
    return fetch(`${lsm.url}/`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        ...(target === undefined ? {} : { 'X-Amz-Target': target }),
        ...headers,
      },
      body,
    });
  }

  it('refuses a request without Authorization as AWS does, and does not count it', async () => {
    const response = await post('secretsmanager.ListSecrets', '{}', {});

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toMatchObject({
      __type: 'MissingAuthenticationTokenException',
      message: 'Request is missing Authentication Token',
    });
    expect(lsm.counts()).toEqual({});
  });

  it('answers errors as JSON 1.1 with __type, message and x-amzn-ErrorType', async () => {
    const response = await post('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: 'missing' }));

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      __type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      Message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('answers UnknownOperationException for an operation it does not implement', async () => {
    const response = await post('secretsmanager.ValidateResourcePolicy', '{}');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers SerializationException for a body that is not JSON', async () => {
    const response = await post('secretsmanager.ListSecrets', '{not json');

    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('answers ValidationException for a missing required field', async () => {
    const response = await post('secretsmanager.GetSecretValue', '{}');

    expect(await response.json()).toMatchObject({
      __type: 'ValidationException',
      message: "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must not be null",
    });
  });

  it('refuses a request body over 1 MiB with 413', async () => {
    const response = await post('secretsmanager.CreateSecret', JSON.stringify({ Name: 'big', SecretString: 'x'.repeat(1024 * 1024) }));

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ __type: 'RequestEntityTooLargeException' });
  });

  it('counts AWS calls per operation, failed ones included, and resets the counts', async () => {
    await client.send(new CreateSecretCommand({ Name: 'counted', SecretString: 'v' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'counted' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'counted' }));
    await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['counted'] }));
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toBeDefined();
    await fetch(`${lsm.url}/_local/counts`);

    expect(lsm.counts()).toEqual({ CreateSecret: 1, GetSecretValue: 3, BatchGetSecretValue: 1 });
    lsm.resetCounts();
    expect(lsm.counts()).toEqual({});
  });

  it('answers STS GetCallerIdentity with the local account in XML', async () => {
    const response = await fetch(`${lsm.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', ...SIGNED },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    const xml = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/xml');
    expect(xml).toMatch(
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user\/local<\/Arn><UserId>[A-Z]+<\/UserId><Account>000000000000<\/Account><\/GetCallerIdentityResult><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/GetCallerIdentityResponse>$/,
    );
    expect(lsm.counts()).toEqual({ GetCallerIdentity: 1 });
  });

  it('answers another STS action with an XML InvalidAction error', async () => {
    const response = await fetch(`${lsm.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...SIGNED },
      body: 'Action=AssumeRole&Version=2011-06-15',
    });

    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>InvalidAction</Code>');
  });

  it('logs nothing, least of all a secret value', async () => {
    const canary = 'canary-value-7f3a91';
    const writes: string[] = [];
    const capture = (chunk: unknown): boolean => {
      writes.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void writes.push(args.map(String).join(' '))),
    );
    try {
      await client.send(new CreateSecretCommand({ Name: 'canary', SecretString: canary }));
      await client.send(new GetSecretValueCommand({ SecretId: 'canary' }));
      await client.send(new PutSecretValueCommand({ SecretId: 'canary', SecretString: `${canary}-2` }));
      await expect(client.send(new CreateSecretCommand({ Name: 'canary', SecretString: canary }))).rejects.toBeDefined();
      await client.send(new DeleteSecretCommand({ SecretId: 'canary' }));
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'canary' }))).rejects.not.toMatchObject({
        message: expect.stringContaining(canary) as unknown,
      });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      for (const spy of consoleSpies) spy.mockRestore();
    }

    expect(writes.filter((line) => !line.includes('NodeVersionSupportWarning'))).toEqual([]);
  });
});
