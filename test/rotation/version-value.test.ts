import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { RotationError } from '../../src/rotation/errors.js';
import { readValue } from '../../src/rotation/version-value.js';
import { awsError } from '../support/fake-secrets-manager-client.js';

/** A client that answers every GetSecretValue with `answer` (or throws it), recording each input. */
function client(answer: () => unknown) {
  const inputs: unknown[] = [];
  const fake = {
    send: async (command: GetSecretValueCommand) => {
      inputs.push(command.input);
      return answer();
    },
  };
  return { client: fake as unknown as SecretsManagerClient, inputs };
}

describe('readValue', () => {
  it('asks for exactly the version id and label given', async () => {
    const c = client(() => ({ VersionId: 'v1', SecretString: 'canary-value-read-K2' }));

    await readValue(c.client, 's', { versionId: 'v1' });
    await readValue(c.client, 's', { stage: 'AWSCURRENT' });
    const both = await readValue(c.client, 's', { versionId: 'v1', stage: 'AWSPENDING' });

    expect(c.inputs).toEqual([
      { SecretId: 's', VersionId: 'v1' },
      { SecretId: 's', VersionStage: 'AWSCURRENT' },
      { SecretId: 's', VersionId: 'v1', VersionStage: 'AWSPENDING' },
    ]);
    expect(both).toEqual({ versionId: 'v1', value: 'canary-value-read-K2' });
  });

  it('gives undefined for a version Secrets Manager does not have', async () => {
    const c = client(() => {
      throw awsError('ResourceNotFoundException');
    });

    await expect(readValue(c.client, 's', { versionId: 'v1', stage: 'AWSPENDING' })).resolves.toBeUndefined();
  });

  it('says a version is not pending when it exists without the label asked for, and passes the error on otherwise', async () => {
    const invalid = awsError('InvalidRequestException');
    const c = client(() => {
      throw invalid;
    });

    await expect(readValue(c.client, 's', { versionId: 'v1', stage: 'AWSPENDING' })).rejects.toMatchObject({
      code: 'ROTATION_NOT_PENDING',
      message: 'Version v1 of s is not labelled AWSPENDING',
      cause: invalid,
    });
    await expect(readValue(c.client, 's', { versionId: 'v1' })).rejects.toBe(invalid);
    await expect(readValue(c.client, 's', { stage: 'AWSPENDING' })).rejects.toBe(invalid);
    const denied = awsError('AccessDeniedException');
    await expect(readValue(client(() => Promise.reject(denied)).client, 's', { versionId: 'v1', stage: 'AWSPENDING' })).rejects.toBe(denied);
  });

  it('refuses a binary secret, or an answer without a version id, naming the secret only', async () => {
    for (const answer of [{ VersionId: 'v1', SecretBinary: new Uint8Array([1]) }, { SecretString: 'canary-value-read-K2' }]) {
      const failure = await readValue(client(() => answer).client, 's', { stage: 'AWSCURRENT' }).catch((e: unknown) => e);

      expect(failure).toBeInstanceOf(RotationError);
      expect(failure).toMatchObject({ code: 'ROTATION_UNKNOWN_SECRET', message: 's holds a binary value; only string secrets are rotated here' });
    }
  });
});
