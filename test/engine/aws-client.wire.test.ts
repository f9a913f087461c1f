import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecretsManagerClient } from '../../src/engine/aws-client.js';
import { classifyAwsError } from '../../src/engine/aws-error.js';
import { TEST_CREDENTIALS, useLocalAws } from '../support/local-aws.js';

const lsm = useLocalAws({ each: true });

const get = (client: ReturnType<typeof createSecretsManagerClient>) =>
  client.send(new GetSecretValueCommand({ SecretId: 'app/missing' })).then(
    () => 'ok',
    (err: unknown) => classifyAwsError(err).code,
  );

describe('createSecretsManagerClient', () => {
  it('talks to the endpoint it is given, in its region, with the credentials it is given', async () => {
    const client = createSecretsManagerClient({ region: 'eu-west-3', endpoint: lsm.url, credentials: TEST_CREDENTIALS });

    expect(await get(client)).toBe('ResourceNotFoundException');
    expect(lsm.counts()).toEqual({ GetSecretValue: 1 });
    expect(await client.config.region()).toBe('eu-west-3');
    client.destroy();
  });

  it('makes two attempts of a call that fails on the server by default, or as many as asked', async () => {
    lsm.setFaults({ outage: true });
    const twice = createSecretsManagerClient({ region: 'us-east-1', endpoint: lsm.url, credentials: TEST_CREDENTIALS });
    const once = createSecretsManagerClient({ region: 'us-east-1', endpoint: lsm.url, credentials: TEST_CREDENTIALS, maxAttempts: 1 });

    expect(await get(twice)).toBe('InternalServiceError');
    expect(lsm.counts()).toEqual({ GetSecretValue: 2 });
    lsm.resetCounts();
    expect(await get(once)).toBe('InternalServiceError');
    expect(lsm.counts()).toEqual({ GetSecretValue: 1 });
    twice.destroy();
    once.destroy();
  });

  it('leaves a throttled call to the engine when asked: one attempt, not the SDK’s retry, while a server failure still gets two', async () => {
    const client = createSecretsManagerClient({ region: 'us-east-1', endpoint: lsm.url, credentials: TEST_CREDENTIALS, retryThrottled: false });
    lsm.setFaults({ throttle: true });
    const throttled = { code: await get(client), counts: lsm.counts() };
    lsm.setFaults({ throttle: false, outage: true });
    lsm.resetCounts();
    const failed = { code: await get(client), counts: lsm.counts() };

    expect(throttled).toEqual({ code: 'ThrottlingException', counts: { GetSecretValue: 1 } });
    expect(failed).toEqual({ code: 'InternalServiceError', counts: { GetSecretValue: 2 } });
    client.destroy();
  });

  it('retries a throttled call once by default (the rotation function, the CLI)', async () => {
    const client = createSecretsManagerClient({ region: 'us-east-1', endpoint: lsm.url, credentials: TEST_CREDENTIALS });
    lsm.setFaults({ throttle: true });

    expect(await get(client)).toBe('ThrottlingException');
    expect(lsm.counts()).toEqual({ GetSecretValue: 2 });
    client.destroy();
  });

  it('ends a call that an endpoint accepts and never answers at the request timeout', async () => {
    lsm.setFaults({ hang: true });
    const client = createSecretsManagerClient({ region: 'us-east-1', endpoint: lsm.url, credentials: TEST_CREDENTIALS, requestTimeoutMs: 200, maxAttempts: 1 });

    const err = await client.send(new GetSecretValueCommand({ SecretId: 'app/missing' })).catch((e: unknown) => e);

    // The SDK reports its request timeout as a Node ETIMEDOUT error.
    expect(classifyAwsError(err)).toEqual({ code: 'ETIMEDOUT', transient: true, unreachable: true });
    client.destroy();
  });
});
