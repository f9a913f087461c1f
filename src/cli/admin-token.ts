import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Catalog } from '../engine/index.js';
import { AWSCURRENT, readValue } from '../rotation/index.js';
import { CliError } from './errors.js';

/**
 * The admin token instances accept now (AWSCURRENT), which authenticates the CLI's calls to a
 * service (`--url`, `--notify`). The one reader of it for rotate, rollback and the rotation
 * kinds. Never logged; NOT_FOUND names the secret only.
 */
export async function readAdminToken(client: SecretsManagerClient, catalog: Pick<Catalog, 'entry'>): Promise<string> {
  const adminId = catalog.entry('ADMIN_TOKEN')!.awsId;
  const current = await readValue(client, adminId, { stage: AWSCURRENT });
  if (current === undefined) throw new CliError('NOT_FOUND', `${adminId} has no AWSCURRENT value`);
  return current.value;
}
