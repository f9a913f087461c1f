import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { asPrivileged, readMasterLogin } from '../../src/rotation/master-secret.js';
import { readPostgresSecret } from '../../src/rotation/postgres-secret.js';
import { readRedisSecret } from '../../src/rotation/redis-secret.js';
import { localClient } from '../support/local-aws.js';

let lsm: LocalSecretsManager;
let n = 0;
const PASSWORD = 'canary-master-pw-H5j6K7l8';

beforeAll(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterAll(async () => {
  await lsm.close();
});

async function master(value: string): Promise<string> {
  const id = `master/${++n}/secret`;
  await localClient(lsm).send(new CreateSecretCommand({ Name: id, SecretString: value }));
  return id;
}

describe('readMasterLogin', () => {
  it('reads the JSON form, and the URL form through the kind’s own parser', async () => {
    const client = localClient(lsm);
    await expect(readMasterLogin(client, await master(JSON.stringify({ username: 'postgres', password: PASSWORD })), readPostgresSecret)).resolves.toEqual({ user: 'postgres', password: PASSWORD });
    await expect(readMasterLogin(client, await master(`postgresql://admin:${PASSWORD}@127.0.0.1:5432/db`), readPostgresSecret)).resolves.toEqual({ user: 'admin', password: PASSWORD });
    await expect(readMasterLogin(client, await master(`redis://:${PASSWORD}@127.0.0.1:6379`), readRedisSecret)).resolves.toEqual({ user: 'default', password: PASSWORD });
  });

  it('names the secret and what is missing, never the value', async () => {
    const client = localClient(lsm);
    const id = await master(JSON.stringify({ username: 'postgres', pass: PASSWORD }));
    const failure = (await readMasterLogin(client, id, readPostgresSecret).catch((e: unknown) => e)) as Error;
    expect(failure).toMatchObject({ code: 'ROTATION_BAD_VALUE', message: `The master secret ${id} needs a user and a password` });
    await expect(readMasterLogin(client, 'master/none', readPostgresSecret)).rejects.toMatchObject({ code: 'ROTATION_MISCONFIGURED' });
    const broken = await master(`{ "username": "x", "password": "${PASSWORD}"`);
    const invalid = (await readMasterLogin(client, broken, readPostgresSecret).catch((e: unknown) => e)) as Error;
    expect(invalid.message).toBe(`The master secret ${broken} is not valid JSON`);
    expect(`${failure.message} ${invalid.message}`).not.toContain(PASSWORD);
  });
});

describe('asPrivileged', () => {
  it('says what was done and why from the driver code alone, never the driver’s message', async () => {
    const leaky = Object.assign(new Error(`password authentication failed: ${PASSWORD}`), { code: '28P01' });
    const failure = (await asPrivileged(
      async () => {
        throw leaky;
      },
      { code: 'ROTATION_SET_FAILED', what: 'setSecret for s as the master role', why: (c) => (c === '28P01' ? 'the master credentials do not log in' : 'failed') },
    ).catch((e: unknown) => e)) as Error;

    expect(failure).toMatchObject({ code: 'ROTATION_SET_FAILED', message: 'setSecret for s as the master role: the master credentials do not log in (28P01)' });
    await expect(asPrivileged(async () => 'done', { code: 'ROTATION_SET_FAILED', what: 'x', why: () => 'y' })).resolves.toBeUndefined();
  });
});
