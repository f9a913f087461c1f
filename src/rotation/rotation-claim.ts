import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError } from '../engine/index.js';
import { RotationError } from './errors.js';
import { isUnclearOutcome } from './unclear-outcome.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, moveStage, readVersions, type SecretVersions, type VersionView } from './version-stages.js';

/**
 * Claim, then act. A rotation owns a secret only while its version holds AWSPENDING, and the
 * label is taken in a way Secrets Manager itself arbitrates:
 *
 * 1. the new value is put under a label of its own (`ROTATION_CANDIDATE_<versionId>`), never
 *    under AWSPENDING: PutSecretValue with VersionStages silently takes a label from whichever
 *    version holds it, which is how an unfinished rotation used to lose its claim unnoticed;
 * 2. AWSPENDING is moved to it WITHOUT RemoveFromVersionId, which Secrets Manager refuses while
 *    another version holds the label. Of two rotations, exactly one wins; the other stops before
 *    any effect, naming the winner (as RotateSecret refuses while a rotation is in progress).
 *
 * A finished rotation may leave AWSPENDING on the version it made current (AWS's own templates
 * do); that leftover is taken off first, naming its holder (a compare-and-set), so it is never
 * mistaken for a claim.
 *
 * Every step with an effect outside Secrets Manager (ALTER ROLE, ACL SETUSER, handing a token
 * over, finishing) calls `requireClaim` right before it: a run whose claim was taken away (a
 * rollback cancelled it) stops there, without effect.
 */

const CANDIDATE_PREFIX = 'ROTATION_CANDIDATE_';

/** The label a new version is put under until it holds the claim. */
export function candidateStage(versionId: string): string {
  return `${CANDIDATE_PREFIX}${versionId}`;
}

export function isCandidateStage(stage: string): boolean {
  return stage.startsWith(CANDIDATE_PREFIX);
}

/**
 * A version a run put under its candidate label and stopped before claiming, which a new run may
 * resume: not current or previous, and newer than the current version. A candidate label on any
 * other version is a leftover (its best-effort drop failed): that version was current once, or
 * was passed over by a rotation that finished after it, and resuming it would bring an old value
 * back. Leftovers are dropped by the next claim (`takeClaim`).
 */
export function isResumableCandidate(v: VersionView, versions: SecretVersions): boolean {
  if (!v.stages.includes(candidateStage(v.versionId))) return false;
  if (v.stages.includes(AWSCURRENT) || v.stages.includes(AWSPREVIOUS)) return false;
  const current = versions.current;
  return current === undefined || (v.createdMs !== undefined && current.createdMs !== undefined && v.createdMs > current.createdMs);
}

/** The version holding AWSPENDING as an unfinished rotation (not current, not previous), if any. */
export function claimHolderOf(versions: SecretVersions): string | undefined {
  return versions.unfinished?.versionId;
}

/**
 * PutSecretValue of a new version under its candidate label. An unclear answer is sent once
 * more with the same token and value (Secrets Manager answers with the version if the first
 * landed); if that fails too, the outcome is ROTATION_OUTCOME_UNKNOWN.
 */
export async function putCandidate(client: SecretsManagerClient, secretId: string, versionId: string, value: string): Promise<void> {
  const put = () => client.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: versionId, SecretString: value, VersionStages: [candidateStage(versionId)] }));
  try {
    await put();
  } catch (err) {
    if (!isUnclearOutcome(err)) throw err;
    try {
      await put();
    } catch (again) {
      throw new RotationError('ROTATION_OUTCOME_UNKNOWN', `Creating version ${versionId} of ${secretId} got no clear answer (${classifyAwsError(err).code}); it may exist`, { cause: again });
    }
  }
}

/** The refusal of a rotation that finds another one in progress. */
export function inProgress(secretId: string, versionId: string, holder: string): RotationError {
  return new RotationError(
    'ROTATION_IN_PROGRESS',
    `A rotation of ${secretId} is in progress: version ${holder} holds its claim (AWSPENDING), so version ${versionId} was not started and nothing changed. Resume version ${holder}, or cancel it with a rollback`,
    { claimHolder: holder },
  );
}

/**
 * Moves AWSPENDING to `versionId` without RemoveFromVersionId (see above). Idempotent: a version
 * that already holds it keeps it. Throws ROTATION_IN_PROGRESS when another unfinished version
 * holds it, or wins it meanwhile. `known`: the labels as just read (a put of the version's own
 * candidate label since changes nothing this looks at).
 */
export async function takeClaim(client: SecretsManagerClient, secretId: string, versionId: string, known?: SecretVersions): Promise<void> {
  const versions = known ?? (await readVersions(client, secretId));
  const holder = versions.holderOf(AWSPENDING);
  if (holder?.versionId !== versionId) {
    if (holder !== undefined && holder === versions.unfinished) throw inProgress(secretId, versionId, holder.versionId);
    if (holder !== undefined) {
      // A finished rotation's leftover: taken off naming its holder, so a claim taken meanwhile is never removed.
      await moveStage(client, secretId, AWSPENDING, { to: undefined, from: holder.versionId }).catch((err: unknown) => {
        if (classifyAwsError(err).code !== 'InvalidParameterException') throw err;
      });
    }
    try {
      await moveStage(client, secretId, AWSPENDING, { to: versionId, from: undefined });
    } catch (err) {
      const after = await readVersions(client, secretId);
      const now = after.holderOf(AWSPENDING)?.versionId;
      if (now === versionId) {
        // An unclear answer after the move landed: the claim is ours.
      } else if (classifyAwsError(err).code === 'InvalidParameterException' && now !== undefined) {
        await dropCandidate(client, secretId, versionId);
        throw inProgress(secretId, versionId, now);
      } else if (isUnclearOutcome(err)) {
        throw new RotationError('ROTATION_OUTCOME_UNKNOWN', `Claiming version ${versionId} of ${secretId} got no clear answer (${classifyAwsError(err).code})`, { cause: err });
      } else {
        throw err;
      }
    }
  }
  await dropCandidate(client, secretId, versionId);
  // Every other candidate label is a leftover or a run that lost (it cannot claim while this one
  // holds AWSPENDING): dropped, so labels do not pile up (a secret holds at most 20) and no old
  // version is ever resumed.
  for (const v of versions.versions) {
    if (v.versionId !== versionId && v.stages.includes(candidateStage(v.versionId))) await dropCandidate(client, secretId, v.versionId);
  }
  // Setting marks of other versions are stale too (their rotation finished, was cancelled before it set, or stopped).
  await dropSettingMarks(client, secretId, versions, versionId);
}

/** Best effort: the setting marks off every version but `keep` (a failure leaves a stale, harmless label). */
export async function dropSettingMarks(client: SecretsManagerClient, secretId: string, versions: SecretVersions, keep: string | undefined): Promise<void> {
  for (const v of versions.versions) {
    if (v.versionId === keep || !v.stages.includes(settingStage(v.versionId))) continue;
    await moveStage(client, secretId, settingStage(v.versionId), { to: undefined, from: v.versionId }).catch(() => {});
  }
}

/**
 * Best effort: the candidate label off a version (once it holds the claim, or lost it). Left in
 * place it does no harm: a version under it holds no claim, and a re-run of the same version
 * finds it to claim again.
 */
export async function dropCandidate(client: SecretsManagerClient, secretId: string, versionId: string): Promise<void> {
  await moveStage(client, secretId, candidateStage(versionId), { to: undefined, from: versionId }).catch(() => {});
}

export type ClaimState = 'pending' | 'current';

const SETTING_PREFIX = 'ROTATION_SETTING_';

/**
 * The mark a rotation puts on its version right before it sets a password at the server: a
 * cancel that lands after the rotation's claim check cannot see that check, but sees the mark.
 */
export function settingStage(versionId: string): string {
  return `${SETTING_PREFIX}${versionId}`;
}

/** Whether the version carries its setting mark (a rotation began setting its password). */
export function isBeingSet(versions: SecretVersions, versionId: string): boolean {
  return versions.versions.find((v) => v.versionId === versionId)?.stages.includes(settingStage(versionId)) === true;
}

/**
 * `requireClaim` before an effect at a credential's server (ALTER ROLE, ACL SETUSER), with the
 * version marked first (`settingStage`). A cancel takes AWSPENDING off and then looks for the
 * mark, so of the two at least one sees the other: this check finds the claim gone (nothing is
 * set), or the cancel finds the mark and gives the claim back (the rotation is finished, not
 * cancelled). Without the mark, a cancel landing between this check and ALTER ROLE reported
 * success while the server took the cancelled version's password, which no label then held.
 */
export async function requireClaimToSet(client: SecretsManagerClient, secretId: string, versionId: string): Promise<ClaimState> {
  await moveStage(client, secretId, settingStage(versionId), { to: versionId, from: undefined });
  return requireClaim(client, secretId, versionId, 'setSecret');
}

/**
 * Right before an effect outside Secrets Manager: `versionId` still holds the claim (`pending`),
 * or is already AWSCURRENT (`current`: finished). Otherwise ROTATION_NOT_PENDING naming the
 * version that holds the claim now, if any, and nothing is done.
 */
export async function requireClaim(client: SecretsManagerClient, secretId: string, versionId: string, before: string): Promise<ClaimState> {
  const versions = await readVersions(client, secretId);
  const mine = versions.versions.find((v) => v.versionId === versionId);
  if (mine?.stages.includes(AWSCURRENT)) return 'current';
  if (mine?.stages.includes(AWSPENDING)) return 'pending';
  throw lostClaim(secretId, versionId, before, versions);
}

export function lostClaim(secretId: string, versionId: string, before: string, versions: SecretVersions): RotationError {
  const holder = claimHolderOf(versions);
  const who =
    holder === undefined
      ? 'no version holds it (a rollback cancelled this rotation, or it never started)'
      : `version ${holder} holds it (another rotation): resume that one, or cancel it with a rollback`;
  return new RotationError('ROTATION_NOT_PENDING', `Version ${versionId} of ${secretId} does not hold the rotation's claim (AWSPENDING), so ${before} was not done: ${who}`, {
    claimHolder: holder ?? null,
  });
}
