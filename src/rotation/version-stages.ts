import {
  paginateListSecretVersionIds,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { IMMEDIATE_ROTATION_STAGE } from '../engine/index.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';
/** On the current version: the engine refuses the previous value at once (see the engine's source.ts). */
export const ROTATION_IMMEDIATE = IMMEDIATE_ROTATION_STAGE;
/**
 * On the version a rollback moved AWSCURRENT away from, so that a second rollback, which would
 * switch straight back to it, is noticed. A label is on one version at most, so it follows the
 * latest rollback.
 */
export const ROLLED_BACK = 'ROLLED_BACK';

/** One labelled version: its id, labels and creation time. Never its value. */
export interface VersionView {
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly createdMs: number | undefined;
}

/** A secret's labelled versions, newest first, and who holds which label. */
export interface SecretVersions {
  readonly versions: readonly VersionView[];
  holderOf(stage: string): VersionView | undefined;
  readonly current: VersionView | undefined;
  readonly previous: VersionView | undefined;
  /**
   * A version under AWSPENDING that is neither AWSCURRENT nor AWSPREVIOUS: a rotation that has
   * not finished. (AWS may leave AWSPENDING on a version it made current; once that version is
   * rolled back or rotated past, it is AWSPREVIOUS, not unfinished.)
   */
  readonly unfinished: VersionView | undefined;
}

/**
 * The labelled versions of a secret (ListSecretVersionIds, every page); with `includeDeprecated`,
 * the unlabelled ones too (what a repair looks through).
 */
export async function readVersions(client: SecretsManagerClient, secretId: string, options: { readonly includeDeprecated?: boolean } = {}): Promise<SecretVersions> {
  const versions: VersionView[] = [];
  for await (const page of paginateListSecretVersionIds({ client }, { SecretId: secretId, ...(options.includeDeprecated === true && { IncludeDeprecated: true }) })) {
    for (const v of page.Versions ?? []) {
      if (v.VersionId === undefined) continue;
      versions.push({ versionId: v.VersionId, stages: [...(v.VersionStages ?? [])], createdMs: v.CreatedDate?.getTime() });
    }
  }
  versions.sort((a, b) => (b.createdMs ?? 0) - (a.createdMs ?? 0));
  return versionsOf(versions);
}

/** The label view over a list of versions (also for DescribeSecret's VersionIdsToStages). */
export function versionsOf(versions: readonly VersionView[]): SecretVersions {
  const holderOf = (stage: string) => versions.find((v) => v.stages.includes(stage));
  const current = holderOf(AWSCURRENT);
  const previous = holderOf(AWSPREVIOUS);
  const pending = holderOf(AWSPENDING);
  return {
    versions,
    holderOf,
    current,
    previous,
    unfinished: pending !== undefined && pending !== current && pending !== previous ? pending : undefined,
  };
}

/**
 * Moves (or, with `to` undefined, removes) a label with UpdateSecretVersionStage, naming the
 * version it is taken from: if another writer moved it meanwhile, AWS refuses
 * (InvalidParameterException), which makes each move a compare-and-set. A label already where it
 * should be costs no call.
 */
export async function moveStage(
  client: SecretsManagerClient,
  secretId: string,
  stage: string,
  move: { readonly to: string | undefined; readonly from: string | undefined },
): Promise<void> {
  if (move.to === move.from) return;
  if (move.to === undefined && move.from === undefined) return;
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: stage,
      ...(move.to !== undefined && { MoveToVersionId: move.to }),
      ...(move.from !== undefined && { RemoveFromVersionId: move.from }),
    }),
  );
}
