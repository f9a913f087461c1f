import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Catalog } from '../../engine/index.js';
import { classifyAwsError } from '../../engine/index.js';
import { CliError, fromAwsError } from '../errors.js';

export type SetupAction = 'created' | 'updated' | 'unchanged' | 'missing' | 'skipped';

export interface SetupRow {
  readonly name: string;
  readonly secretId: string;
  readonly action: SetupAction;
  readonly generated: boolean;
}

export interface SetupInput {
  readonly client: SecretsManagerClient;
  readonly catalog: Catalog;
  /** Values the operator gave (from --from-env or prompts); absent names are left alone. */
  readonly provided: Readonly<Record<string, string | undefined>>;
  readonly tags: { readonly project: string; readonly environment: string };
}

async function currentValue(client: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString ?? '';
  } catch (err) {
    if (classifyAwsError(err).code === 'ResourceNotFoundException') return undefined;
    throw fromAwsError(err, secretId);
  }
}

/**
 * `secrets setup`: creates missing secrets (generating the tokens the catalog marks so), and
 * writes a new version only where a given value differs from the stored one: AWS keeps at most
 * 100 versions, and an unchanged value must not cost one. Re-running changes nothing.
 */
export async function setupSecrets(input: SetupInput): Promise<SetupRow[]> {
  const { client, catalog, provided, tags } = input;
  for (const { name, spec } of catalog.entries) {
    const value = provided[name];
    if (value === undefined || value === '') continue;
    const parsed = spec.kind.parse(value);
    if (!parsed.ok) throw new CliError('USAGE', `Value given for ${name} is invalid: ${parsed.reason} (expected ${spec.kind.label})`);
  }
  const rows: SetupRow[] = [];
  for (const { name, awsId, spec } of catalog.entries) {
    const existing = await currentValue(client, awsId);
    let value = provided[name] === '' ? undefined : provided[name];
    let generated = false;
    if (value === undefined && existing === undefined && spec.generate !== undefined) {
      value = randomBytes(spec.generate.bytes).toString('base64');
      generated = true;
    }
    try {
      if (existing === undefined && value !== undefined) {
        await client.send(
          new CreateSecretCommand({
            Name: awsId,
            Description: spec.description,
            SecretString: value,
            Tags: [
              { Key: 'Project', Value: tags.project },
              { Key: 'Environment', Value: tags.environment },
            ],
          }),
        );
        rows.push({ name, secretId: awsId, action: 'created', generated });
      } else if (existing !== undefined && value !== undefined && value !== existing) {
        await client.send(new PutSecretValueCommand({ SecretId: awsId, SecretString: value }));
        rows.push({ name, secretId: awsId, action: 'updated', generated });
      } else {
        rows.push({ name, secretId: awsId, action: existing !== undefined ? 'unchanged' : spec.required ? 'missing' : 'skipped', generated });
      }
    } catch (err) {
      throw fromAwsError(err, awsId);
    }
  }
  return rows;
}
