import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../src/local-aws/faults.js';
import { secretsManagerClient } from './sdk-client.js';
import { useLocalAws } from '../support/local-aws.js';

describe('local Secrets Manager HTTP control plane', () => {
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

  const control = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${lsm.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  it('reports health', async () => {
    const response = await control('GET', '/_local/health');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('reads and resets call counts, without counting itself', async () => {
    await client.send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'a' }));

    const counts = await control('GET', '/_local/counts');
    expect(await counts.json()).toEqual({ CreateSecret: 1, GetSecretValue: 1 });

    const reset = await control('POST', '/_local/counts/reset');
    expect(reset.status).toBe(204);
    expect(lsm.counts()).toEqual({});
  });

  it('merges faults from a PUT and answers the faults in force', async () => {
    await control('PUT', '/_local/faults', { denySecrets: ['a'] });
    const response = await control('PUT', '/_local/faults', { throttle: true });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ...NO_FAULTS, denySecrets: ['a'], throttle: true });
    expect(lsm.faults()).toEqual({ ...NO_FAULTS, denySecrets: ['a'], throttle: true });
    await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('is not subject to the faults it sets', async () => {
    await control('PUT', '/_local/faults', { outage: true, latencyMs: 10_000 });

    const started = performance.now();
    const response = await control('GET', '/_local/faults');

    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await response.json()).toMatchObject({ outage: true });
  });

  it('clears faults on DELETE', async () => {
    lsm.setFaults({ outage: true });

    const response = await control('DELETE', '/_local/faults');

    expect(response.status).toBe(204);
    expect(lsm.faults()).toEqual(NO_FAULTS);
  });

  it('rejects invalid faults with 400 and keeps the faults in force', async () => {
    lsm.setFaults({ throttle: true });

    const badJson = await control('PUT', '/_local/faults', '{nope');
    const badField = await control('PUT', '/_local/faults', { latencyMs: 'slow' });

    expect(badJson.status).toBe(400);
    expect(badField.status).toBe(400);
    expect(await badField.json()).toEqual({ message: 'latencyMs must be a non-negative number' });
    expect(lsm.faults()).toEqual({ ...NO_FAULTS, throttle: true });
  });

  it('clears the store on POST /_local/reset', async () => {
    await client.send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));

    const response = await control('POST', '/_local/reset');

    expect(response.status).toBe(204);
    expect((await client.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
  });

  it('answers 404 for an unknown route and 405 for a wrong method', async () => {
    expect((await control('GET', '/_local/nope')).status).toBe(404);
    const wrongMethod = await control('POST', '/_local/counts');
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ message: 'POST is not allowed on /_local/counts; use GET.' });
  });
});
