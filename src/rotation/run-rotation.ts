import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FinishMode, RotationModule, RotationStep, VersionValue } from './rotation-module.js';
import { applySet, applyTest, claimToSet, createSecret, dropPendingLabel, finishSecret } from './rotation-steps.js';
import { requireClaim } from './rotation-claim.js';
import { AWSPREVIOUS } from './version-stages.js';
import { readValue } from './version-value.js';

export interface RunRotationInput<D> {
  readonly module: RotationModule<D>;
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  /** The ClientRequestToken: a new UUID, or the pending version being resumed. */
  readonly versionId: string;
  readonly deps: D;
  readonly mode: FinishMode;
  /**
   * Called as soon as the pending version exists (made now or found), before any other step:
   * where the CLI hands a new token over. If it throws, the rotation stops there, with the
   * pending version in place for a re-run to resume.
   */
  readonly onPending?: (pending: VersionValue, info: { readonly created: boolean; readonly alreadyCurrent: boolean }) => Promise<void>;
  /** Told after each step, for progress lines. */
  readonly onStep?: (step: RotationStep) => void;
  /** The clock finishSecret stamps the switch with (default Date.now). */
  readonly now?: () => number;
}

export interface RotationOutcome {
  readonly toVersionId: string;
  /** The version AWSCURRENT moved from; undefined if this run found the rotation already finished. */
  readonly fromVersionId: string | undefined;
  /** False when the pending version already existed (resumed). */
  readonly created: boolean;
  /** The run found the version already AWSCURRENT: nothing moved. */
  readonly alreadyCurrent: boolean;
  /**
   * The value the new version replaced (AWSPREVIOUS once finished). Instances accept it until
   * they refresh, so it authenticates a refresh notice when it is the admin token. Never logged.
   */
  readonly replaced: VersionValue | undefined;
}

/**
 * A whole rotation in one process (the CLI's way): createSecret (which takes the claim), the
 * hand-over, setSecret, testSecret, finishSecret, then AWSPENDING off the new current version
 * (so that, once rolled back, it cannot look unfinished). The hand-over and setSecret each
 * re-check the claim right before they act, and finishSecret checks it as it moves AWSCURRENT:
 * a run whose claim was taken stops there without effect. Every step is idempotent, so running
 * this again with the same version id after any failure resumes where it stopped.
 */
export async function runRotation<D>(input: RunRotationInput<D>): Promise<RotationOutcome> {
  const { module, client, secretId, versionId, deps, mode, onPending, onStep, now } = input;
  const ctx = { client, secretId, versionId, deps };
  const { current, pending, created } = await createSecret(module, ctx);
  onStep?.('createSecret');
  if (pending.versionId === current.versionId) {
    await onPending?.(pending, { created, alreadyCurrent: true });
    // Completes ROTATION_IMMEDIATE if a run stopped between finishSecret's two moves.
    await finishSecret(ctx, mode, now === undefined ? {} : { now });
    await dropPendingLabel(ctx);
    return { toVersionId: versionId, fromVersionId: undefined, created, alreadyCurrent: true, replaced: await readValue(client, secretId, { stage: AWSPREVIOUS }) };
  }
  await requireClaim(client, secretId, versionId, 'the hand-over');
  await onPending?.(pending, { created, alreadyCurrent: false });
  await claimToSet(module, ctx);
  await applySet(module, { ...ctx, current, pending });
  onStep?.('setSecret');
  await applyTest(module, { ...ctx, current, pending });
  onStep?.('testSecret');
  const finished = await finishSecret(ctx, mode, now === undefined ? {} : { now });
  onStep?.('finishSecret');
  await dropPendingLabel(ctx);
  return {
    toVersionId: versionId,
    fromVersionId: finished.fromVersionId,
    created,
    alreadyCurrent: finished.alreadyCurrent,
    replaced: current,
  };
}
