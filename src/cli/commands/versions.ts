import { ListSecretVersionIdsCommand, type SecretsManagerClient, type SecretVersionsListEntry } from '@aws-sdk/client-secrets-manager';
import { fromAwsError } from '../errors.js';

export interface Stages {
  readonly current: SecretVersionsListEntry | undefined;
  readonly previous: SecretVersionsListEntry | undefined;
}

/** The versions holding AWSCURRENT and AWSPREVIOUS. */
export async function stagesOf(client: SecretsManagerClient, secretId: string): Promise<Stages> {
  try {
    const out = await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }));
    const versions = out.Versions ?? [];
    const at = (stage: string) => versions.find((v) => v.VersionStages?.includes(stage));
    return { current: at('AWSCURRENT'), previous: at('AWSPREVIOUS') };
  } catch (err) {
    throw fromAwsError(err, secretId);
  }
}
