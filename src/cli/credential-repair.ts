import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWSCURRENT, AWSPENDING, moveStage, readValue, readVersions, type RotationModule } from '../rotation/index.js';

/** How many versions, newest first, a repair tries to log in with. */
const MAX_TRIED = 20;

/** A credential's repair: the version whose password the server takes, and who holds the claim now. */
export interface CredentialRepair {
  readonly versionId: string;
  /** The version holding AWSPENDING that the repair takes it from (an unfinished rotation whose password does not log in). */
  readonly claimFrom: string | undefined;
}

/**
 * When AWSCURRENT's database or Redis password no longer logs in (two rotations overlapped under
 * an older release, or one was cancelled after its setSecret), the version whose password does:
 * the claim holder first, then every other version newest first (unlabelled ones included).
 * Undefined when AWSCURRENT logs in, or no version does. Reads and logs in only.
 */
export async function findCredentialRepair<D>(client: SecretsManagerClient, secretId: string, module: RotationModule<D>, deps: D): Promise<CredentialRepair | undefined> {
  if (module.logsIn === undefined) return undefined;
  const current = await readValue(client, secretId, { stage: AWSCURRENT });
  if (current === undefined || (await module.logsIn(deps, secretId, current.value))) return undefined;
  const versions = await readVersions(client, secretId, { includeDeprecated: true });
  const holder = versions.unfinished;
  const others = versions.versions.filter((v) => v !== versions.current && v !== holder);
  for (const v of [...(holder === undefined ? [] : [holder]), ...others].slice(0, MAX_TRIED)) {
    const value = await readValue(client, secretId, { versionId: v.versionId });
    if (value !== undefined && (await module.logsIn(deps, secretId, value.value))) {
      return { versionId: v.versionId, claimFrom: holder === undefined || holder === v ? undefined : holder.versionId };
    }
  }
  return undefined;
}

/**
 * The repair's claim: AWSPENDING moved to the version that logs in, from the version named when
 * the operator confirmed (a compare-and-set: if the claim moved since, Secrets Manager refuses
 * and nothing changed), or, with no claim holder, without RemoveFromVersionId (refused if one
 * appeared). The rotation's own createSecret then finds its version claimed.
 */
export async function claimForRepair(client: SecretsManagerClient, secretId: string, repair: CredentialRepair): Promise<void> {
  const versions = await readVersions(client, secretId);
  const holder = versions.holderOf(AWSPENDING);
  if (holder?.versionId === repair.versionId) return;
  // A finished rotation's leftover on the current or previous version is no claim: taken off first, naming it.
  const leftover = holder !== undefined && holder !== versions.unfinished ? holder.versionId : undefined;
  if (leftover !== undefined) await moveStage(client, secretId, AWSPENDING, { to: undefined, from: leftover });
  await moveStage(client, secretId, AWSPENDING, { to: repair.versionId, from: repair.claimFrom });
}
