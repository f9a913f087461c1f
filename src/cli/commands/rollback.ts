import { UpdateSecretVersionStageCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError } from '../../engine/index.js';
import { CliError, fromAwsError } from '../errors.js';
import { stagesOf } from './versions.js';

export interface RollbackResult {
  readonly fromVersionId: string;
  readonly toVersionId: string;
}

/**
 * Moves AWSCURRENT back to the AWSPREVIOUS version (AWS's documented rollback), naming the
 * version it moves from: if someone changed the secret meanwhile, AWS refuses, so of two
 * concurrent rollbacks exactly one wins. With no AWSPREVIOUS nothing is touched.
 */
export async function rollback(client: SecretsManagerClient, secretId: string): Promise<RollbackResult> {
  const { current, previous } = await stagesOf(client, secretId);
  if (current?.VersionId === undefined) throw new CliError('NOT_FOUND', `${secretId} has no AWSCURRENT version`);
  if (previous?.VersionId === undefined) throw new CliError('CONFLICT', `${secretId} has no AWSPREVIOUS version to roll back to; nothing changed`);
  try {
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: previous.VersionId,
        RemoveFromVersionId: current.VersionId,
      }),
    );
  } catch (err) {
    if (classifyAwsError(err).code === 'InvalidParameterException') {
      throw new CliError('CONFLICT', `${secretId} changed while rolling back (another rotation or rollback won); nothing changed here. Check with: secrets status`, { cause: err });
    }
    throw fromAwsError(err, secretId);
  }
  return { fromVersionId: current.VersionId, toVersionId: previous.VersionId };
}
