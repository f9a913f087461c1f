import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Catalog } from '../src/engine/catalog.js';

/**
 * Valid sample values for a catalog, created in a (local) Secrets Manager. Bench data only: the
 * text secrets get a fresh random 64-character value each (base64url of 48 bytes), which meets
 * every token rule of the catalog (32+ characters, 5+ distinct), whatever their names.
 */
export async function seedCatalog(client: SecretsManagerClient, catalog: Catalog): Promise<void> {
  const sample: Record<string, string> = {
    DATABASE_URL: 'postgresql://app@127.0.0.1:5432/app',
    REDIS_URL: 'redis://127.0.0.1:6379',
    OPENAI_MAX_TOKENS: '1000',
    OPENAI_TEMPERATURE: '0.7',
  };
  for (const { name, awsId } of catalog.entries) {
    await client.send(new CreateSecretCommand({ Name: awsId, SecretString: sample[name] ?? randomBytes(48).toString('base64url') }));
  }
}
