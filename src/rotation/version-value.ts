import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError } from '../engine/index.js';
import { RotationError } from './errors.js';
import type { VersionValue } from './rotation-module.js';

/**
 * One version's value, by id and/or label; undefined when Secrets Manager has no such value
 * (ResourceNotFoundException: no such version, or a version created by RotateSecret that has no
 * value yet). A version that exists without the asked label is ROTATION_NOT_PENDING when the
 * label is AWSPENDING, as AWS's templates treat it.
 */
export async function readValue(
  client: SecretsManagerClient,
  secretId: string,
  selector: { readonly versionId?: string; readonly stage?: string },
): Promise<VersionValue | undefined> {
  let out;
  try {
    out = await client.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        ...(selector.versionId !== undefined && { VersionId: selector.versionId }),
        ...(selector.stage !== undefined && { VersionStage: selector.stage }),
      }),
    );
  } catch (err) {
    const { code } = classifyAwsError(err);
    if (code === 'ResourceNotFoundException') return undefined;
    if (code === 'InvalidRequestException' && selector.versionId !== undefined && selector.stage !== undefined) {
      throw new RotationError('ROTATION_NOT_PENDING', `Version ${selector.versionId} of ${secretId} is not labelled ${selector.stage}`, { cause: err });
    }
    throw err;
  }
  if (out.VersionId === undefined || out.SecretString === undefined) {
    throw new RotationError('ROTATION_UNKNOWN_SECRET', `${secretId} holds a binary value; only string secrets are rotated here`);
  }
  return { versionId: out.VersionId, value: out.SecretString };
}
