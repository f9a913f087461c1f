import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWSCURRENT, readValue, type RotationModule, type VersionValue } from '../rotation/index.js';
import type { RollbackPlan } from './commands/rollback.js';
import { CliError } from './errors.js';

/**
 * How a database or Redis password is rolled back, decided before the operator is asked (reads
 * and logins only). AWSCURRENT may move only to a value the server takes:
 *
 * - cancel an unfinished rotation: only while AWSCURRENT's password still logs in (its setSecret
 *   has not run, or left the old password valid, as Redis does); otherwise it must be finished;
 * - another user (alternating-users): switch back, if the previous role's password still logs in
 *   (the rotation after next changes it);
 * - the same user (single-user, Redis): a rotation whose new value is AWSPREVIOUS's (see
 *   rollBackSameUser in commands/rollback.ts): claimed first, the password set back at the
 *   server while the claim holds, then AWSCURRENT moves; stopped in between, it is an unfinished
 *   rotation that `secrets rotate` finishes.
 */
export type CredentialRollback =
  | { readonly action: 'cancel' }
  | { readonly action: 'switch' }
  | { readonly action: 'set-then-switch'; readonly current: VersionValue; readonly previous: VersionValue };

export async function planCredentialRollback<D>(
  client: SecretsManagerClient,
  secretId: string,
  module: RotationModule<D>,
  deps: D,
  plan: RollbackPlan,
  sameUser: (a: string, b: string) => boolean,
): Promise<CredentialRollback> {
  const logsIn = module.logsIn!;
  const current = await readValue(client, secretId, { stage: AWSCURRENT });
  if (current === undefined) throw new CliError('NOT_FOUND', `${secretId} has no AWSCURRENT value`);
  if (plan.action === 'cancel') {
    if (await logsIn(deps, secretId, current.value)) return { action: 'cancel' };
    throw new CliError(
      'CONFLICT',
      `Cannot cancel the unfinished rotation of ${secretId}: the server no longer takes AWSCURRENT's password (version ${plan.fromVersionId} was set there), so cancelling would leave a password that does not log in. Finish it instead: secrets rotate ${module.kind}. Nothing changed`,
    );
  }
  const previous = await readValue(client, secretId, { versionId: plan.toVersionId });
  if (previous === undefined) throw new CliError('NOT_FOUND', `Version ${plan.toVersionId} of ${secretId} has no value`);
  if (sameUser(current.value, previous.value)) return { action: 'set-then-switch', current, previous };
  if (await logsIn(deps, secretId, previous.value)) return { action: 'switch' };
  throw new CliError(
    'CONFLICT',
    `Cannot roll ${secretId} back to version ${plan.toVersionId}: its role's password has been changed since (by a later rotation), so it no longer logs in. Rotate instead: secrets rotate ${module.kind}. Nothing changed`,
  );
}
