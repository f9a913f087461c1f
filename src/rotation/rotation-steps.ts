import { classifyAwsError, SWITCH_STAGE_PREFIX, switchStage } from '../engine/index.js';
import { RotationError } from './errors.js';
import type { FinishMode, PendingContext, RotationModule, StepContext, VersionValue } from './rotation-module.js';
import { isUnclearOutcome } from './unclear-outcome.js';
import { claimHolderOf, dropSettingMarks, inProgress, isResumableCandidate, lostClaim, putCandidate, requireClaim, requireClaimToSet, takeClaim, type ClaimState } from './rotation-claim.js';
import { AWSCURRENT, AWSPENDING, moveStage, readVersions, ROTATION_IMMEDIATE, type SecretVersions } from './version-stages.js';
import { readValue } from './version-value.js';

/**
 * AWS Secrets Manager's four rotation steps, generic over the kind of secret (the module), each
 * idempotent: run twice, or again after a failure half way, it ends in the same state. Modelled
 * on AWS's rotation function templates (aws-samples/aws-secrets-manager-rotation-lambdas).
 */

export interface Created {
  readonly current: VersionValue;
  readonly pending: VersionValue;
  /** False when the pending version already existed (a resumed or retried rotation). */
  readonly created: boolean;
}

/**
 * createSecret: the pending version under the rotation's ClientRequestToken, claimed as
 * `rotation-claim.ts` says (put under a label of its own, then AWSPENDING moved to it without
 * RemoveFromVersionId). While another rotation holds the claim this fails with
 * ROTATION_IN_PROGRESS and puts nothing. An existing version for the token (a retried step, a
 * run that stopped after its put, RotateSecret's empty placeholder) is kept and claimed; a
 * version that lost every label (a rollback cancelled it) is ROTATION_NOT_PENDING.
 */
export async function createSecret<D>(module: RotationModule<D>, ctx: StepContext<D>): Promise<Created> {
  const { client, secretId, versionId } = ctx;
  const current = await currentValue(ctx);
  if (current.versionId === versionId) return { current, pending: current, created: false };
  const versions = await readVersions(client, secretId);
  const holder = claimHolderOf(versions);
  if (holder !== undefined && holder !== versionId) throw inProgress(secretId, versionId, holder);
  const mine = versions.versions.find((v) => v.versionId === versionId);
  if (mine !== undefined && !mine.stages.includes(AWSPENDING) && !isResumableCandidate(mine, versions)) {
    throw lostClaim(secretId, versionId, 'createSecret', versions);
  }
  const existing = mine === undefined ? undefined : await readValue(client, secretId, { versionId });
  if (existing !== undefined) {
    await takeClaim(client, secretId, versionId, versions);
    return { current, pending: existing, created: false };
  }
  const value = await module.newValue({ ...ctx, current });
  await putCandidate(client, secretId, versionId, value);
  await takeClaim(client, secretId, versionId, versions);
  return { current, pending: { versionId, value }, created: true };
}

/**
 * The claim check right before setSecret's effect: credentials (whose set changes a server) mark
 * the version first, so a cancel landing after the check sees it (`requireClaimToSet`).
 */
export function claimToSet<D>(module: RotationModule<D>, ctx: Pick<StepContext<D>, 'client' | 'secretId' | 'versionId'>): Promise<ClaimState> {
  return module.logsIn !== undefined ? requireClaimToSet(ctx.client, ctx.secretId, ctx.versionId) : requireClaim(ctx.client, ctx.secretId, ctx.versionId, 'setSecret');
}

/** setSecret: the module applies the pending value at its resource. */
export async function setSecret<D>(module: RotationModule<D>, ctx: StepContext<D>): Promise<void> {
  if ((await claimToSet(module, ctx)) === 'current') return;
  await applySet(module, await pendingContext(ctx));
}

/**
 * testSecret: the module proves the pending value works. With no value under the token yet
 * (Secrets Manager's configuration test when rotation is enabled without rotating), the module's
 * configuration test runs instead, or only the read of the current value.
 */
export async function testSecret<D>(module: RotationModule<D>, ctx: StepContext<D>): Promise<void> {
  const current = await currentValue(ctx);
  const pending = await readValue(ctx.client, ctx.secretId, { versionId: ctx.versionId, stage: AWSPENDING });
  if (pending === undefined) {
    await wrapped('ROTATION_TEST_FAILED', 'testSecret', ctx, () => module.testConfiguration?.({ ...ctx, current }) ?? Promise.resolve());
    return;
  }
  await applyTest(module, { ...ctx, current, pending });
}

export interface Finished {
  /** The version AWSCURRENT moved from (undefined if it was already on the pending version). */
  readonly fromVersionId: string | undefined;
  readonly alreadyCurrent: boolean;
}

/**
 * finishSecret: moves AWSCURRENT to the pending version, naming the version it moves from, so a
 * concurrent rotation or rollback makes this fail (ROTATION_CONFLICT) instead of being undone.
 *
 * `immediate` then puts ROTATION_IMMEDIATE on the new current version. In that order, no state
 * in between re-admits a token an earlier immediate rotation revoked: stopped after the first
 * move, the version just replaced is AWSPREVIOUS (accepted for the grace window, as after a
 * graceful rotation) and the revoked one is no longer previous at all. Putting the label on
 * first would have taken it off the current version while that still was current, re-admitting
 * its AWSPREVIOUS. A re-run finds the version current and still under AWSPENDING, and completes
 * the label.
 *
 * Right before the AWSCURRENT move, the version gets SWITCHED_AT_<now> (see the engine's
 * source.ts): the previous value's grace window starts there on every instance. A finish that
 * stops before the move and is resumed later stamps again, so the window is always counted from
 * the move (to within one call), never from the version's creation. Stamps on other versions are
 * taken off once the move is done, so a secret never collects them (AWS limits labels).
 */
export async function finishSecret(
  ctx: Pick<StepContext<unknown>, 'client' | 'secretId' | 'versionId'>,
  mode: FinishMode,
  options: { readonly now?: () => number } = {},
): Promise<Finished> {
  const { client, secretId, versionId } = ctx;
  const now = options.now ?? Date.now;
  const versions = await readVersions(client, secretId);
  const current = versions.current;
  if (current === undefined) throw new RotationError('ROTATION_NO_CURRENT', `${secretId} has no AWSCURRENT version`);
  if (current.versionId === versionId) {
    // A run stopped between the two moves: the switch is done, the label not yet.
    if (mode === 'immediate' && current.stages.includes(AWSPENDING)) await labelImmediate(ctx, versions);
    return { fromVersionId: undefined, alreadyCurrent: true };
  }
  const target = versions.versions.find((v) => v.versionId === versionId);
  if (!target?.stages.includes(AWSPENDING)) throw lostClaim(secretId, versionId, 'finishSecret', versions);
  const stamp = switchStage(now());
  try {
    // A stamp of the same millisecond on another version (two switches within 1 ms, or a clock
    // behind the last finisher's) is taken over: a label is on one version at most.
    await moveStage(client, secretId, stamp, { to: versionId, from: versions.holderOf(stamp)?.versionId });
    await moveStage(client, secretId, AWSCURRENT, { to: versionId, from: current.versionId });
  } catch (err) {
    if (classifyAwsError(err).code === 'InvalidParameterException') {
      await takeBackStamp(ctx, stamp);
      throw new RotationError('ROTATION_CONFLICT', `The labels of ${secretId} changed while finishing version ${versionId} (another rotation or rollback); AWSCURRENT was not moved here`, {
        cause: err,
      });
    }
    if (!isUnclearOutcome(err)) throw err;
    if ((await readVersions(client, secretId)).current?.versionId !== versionId) {
      throw new RotationError('ROTATION_OUTCOME_UNKNOWN', `Finishing version ${versionId} of ${secretId} got no clear answer (${classifyAwsError(err).code})`, { cause: err });
    }
  }
  if (mode === 'immediate') await labelImmediate(ctx, versions);
  await dropStamps(ctx, versions.versions, stamp);
  // Current now: no cancel applies, so the setting marks (this version's, and any stale one) come off.
  await dropSettingMarks(client, secretId, versions, undefined);
  return { fromVersionId: current.versionId, alreadyCurrent: false };
}

/**
 * After a refused AWSCURRENT move: the stamp this run put on its version comes off, unless another
 * run finished onto the same version meanwhile and this stamp is the one its switch is read by.
 * Two runs resuming one rotation can stamp in the same millisecond: the stamp is then one label
 * they share, and the loser taking it back would leave the winner's switch unstamped, its grace
 * window counted from the version's creation (hours early for a resumed rotation). A later stamp
 * of the loser beside the winner's own comes off as before.
 */
async function takeBackStamp(ctx: Pick<StepContext<unknown>, 'client' | 'secretId' | 'versionId'>, stamp: string): Promise<void> {
  const after = await readVersions(ctx.client, ctx.secretId).catch(() => undefined);
  const target = after?.versions.find((v) => v.versionId === ctx.versionId);
  const onlyStampOfTheSwitch = after?.current?.versionId === ctx.versionId && target !== undefined && target.stages.every((s) => !s.startsWith(SWITCH_STAGE_PREFIX) || s === stamp);
  if (!onlyStampOfTheSwitch) await dropStamps(ctx, [{ versionId: ctx.versionId, stages: [stamp] }], undefined);
}

/** Best effort: every switch stamp but `keep` off the given versions (a failure leaves a stale, harmless label). */
async function dropStamps(
  ctx: Pick<StepContext<unknown>, 'client' | 'secretId'>,
  versions: readonly { readonly versionId: string; readonly stages: readonly string[] }[],
  keep: string | undefined,
): Promise<void> {
  for (const v of versions) {
    for (const stage of v.stages.filter((s) => s.startsWith(SWITCH_STAGE_PREFIX) && s !== keep)) {
      try {
        await moveStage(ctx.client, ctx.secretId, stage, { to: undefined, from: v.versionId });
      } catch {
        // Left in place: the engine reads the stamp of the current version only.
      }
    }
  }
}

/** ROTATION_IMMEDIATE onto the (now current) version, from whichever version had it. */
async function labelImmediate(ctx: Pick<StepContext<unknown>, 'client' | 'secretId' | 'versionId'>, versions: SecretVersions): Promise<void> {
  const { client, secretId, versionId } = ctx;
  const from = versions.holderOf(ROTATION_IMMEDIATE)?.versionId;
  try {
    await moveStage(client, secretId, ROTATION_IMMEDIATE, { to: versionId, from });
  } catch (err) {
    throw new RotationError(
      isUnclearOutcome(err) ? 'ROTATION_OUTCOME_UNKNOWN' : 'ROTATION_CONFLICT',
      `Version ${versionId} of ${secretId} is AWSCURRENT, but ${ROTATION_IMMEDIATE} could not be put on it (${classifyAwsError(err).code}): the replaced value is accepted for the grace window until this runs again`,
      { cause: err },
    );
  }
}

/**
 * Takes AWSPENDING off a version that is now current, once a rotation run by the CLI is
 * committed (Secrets Manager does its own bookkeeping after a Lambda's finishSecret, so the step
 * itself leaves the label, as AWS's templates do). Best effort: readers treat AWSPENDING on
 * AWSCURRENT (or on AWSPREVIOUS) as finished; failing here must not report a committed rotation
 * as failed. `gone`: the label was already off the version (Secrets Manager refused to remove it
 * from there): after this run's own switch, a cancel (`secrets rollback`) that ran as the switch
 * landed took it (and may have reported success), or another run resuming the same rotation.
 */
export async function dropPendingLabel(ctx: Pick<StepContext<unknown>, 'client' | 'secretId' | 'versionId'>): Promise<'dropped' | 'gone' | 'failed'> {
  try {
    await moveStage(ctx.client, ctx.secretId, AWSPENDING, { to: undefined, from: ctx.versionId });
    return 'dropped';
  } catch (err) {
    // Left in place: see above.
    return classifyAwsError(err).code === 'InvalidParameterException' ? 'gone' : 'failed';
  }
}

export async function applySet<D>(module: RotationModule<D>, ctx: PendingContext<D>): Promise<void> {
  await wrapped('ROTATION_SET_FAILED', 'setSecret', ctx, () => module.setSecret(ctx));
}

export async function applyTest<D>(module: RotationModule<D>, ctx: PendingContext<D>): Promise<void> {
  await wrapped('ROTATION_TEST_FAILED', 'testSecret', ctx, () => module.testSecret(ctx));
}

async function currentValue<D>(ctx: StepContext<D>): Promise<VersionValue> {
  const current = await readValue(ctx.client, ctx.secretId, { stage: AWSCURRENT });
  if (current === undefined) throw new RotationError('ROTATION_NO_CURRENT', `${ctx.secretId} has no AWSCURRENT value to rotate from`);
  return current;
}

async function pendingContext<D>(ctx: StepContext<D>): Promise<PendingContext<D>> {
  const current = await currentValue(ctx);
  const pending = await readValue(ctx.client, ctx.secretId, { versionId: ctx.versionId, stage: AWSPENDING });
  if (pending === undefined) {
    throw new RotationError('ROTATION_NOT_PENDING', `Version ${ctx.versionId} of ${ctx.secretId} has no value under AWSPENDING: createSecret first`);
  }
  return { ...ctx, current, pending };
}

/**
 * Runs a module's step; a failure that is not already a RotationError or an AWS error becomes
 * `code`, naming the step and the error's own code or name (never its message, which may quote
 * a value: a driver's error can echo a connection string).
 */
async function wrapped<D>(code: 'ROTATION_SET_FAILED' | 'ROTATION_TEST_FAILED', step: string, ctx: StepContext<D>, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof RotationError) throw err;
    throw new RotationError(code, `${step} failed for version ${ctx.versionId} of ${ctx.secretId} (${classifyAwsError(err).code})`, { cause: err });
  }
}
