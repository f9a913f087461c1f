import { randomUUID } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isResumableCandidate, readValue, readVersions } from '../rotation/index.js';
import { CliError } from './errors.js';
import { defaultTokenPath, findReservations, readReservation } from './token-file.js';

/** AWS advises at most one new version per secret every 10 minutes. */
export const MIN_ROTATION_INTERVAL_MS = 10 * 60_000;

export interface RotationPlan {
  /** The rotation's ClientRequestToken: new, or the version being resumed. */
  readonly versionId: string;
  /**
   * Why this run resumes: the version holding the claim (AWSPENDING), one a run put under its
   * candidate label and stopped before claiming, or a token file reserved by a run that stopped.
   */
  readonly resume: 'pending' | 'candidate' | 'reservation' | 'repair' | undefined;
  /** A repair: the version holding AWSPENDING it takes the claim from (see credential-repair.ts). */
  readonly claimFrom?: string;
  /** Where the token is handed over; undefined with --print. */
  readonly tokenPath: string | undefined;
  readonly currentVersionId: string | undefined;
}

export interface PlanInput {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly kind: string;
  readonly cwd: string;
  /** --save-token, resolved. */
  readonly savePath: string | undefined;
  /** --print, or a kind with nothing to hand over. */
  readonly noFile: boolean;
  readonly force: boolean;
  readonly now: number;
}

/**
 * Proposes a rotation, reading only: nothing is claimed here, because the operator has not
 * confirmed yet (the claim phase of `secrets rotate` checks the proposal again as it claims).
 * A version of the secret under AWSPENDING (not AWSCURRENT) holds the claim of an unfinished
 * rotation and is resumed, never replaced; so is one a run put under its candidate label and
 * stopped before claiming; a token file still reserved for a version that never reached Secrets
 * Manager resumes with that version id, so the file and the version stay paired. The 10-minute
 * cooldown applies to new rotations only, and counts versions that replaced another: the single
 * version `setup` creates does not count.
 */
export async function planRotation(input: PlanInput): Promise<RotationPlan> {
  const { client, secretId, kind, cwd, savePath, noFile, force, now } = input;
  const versions = await readVersions(client, secretId);
  const currentVersionId = versions.current?.versionId;
  const fileFor = (versionId: string) => (noFile ? undefined : (savePath ?? defaultTokenPath(cwd, kind, versionId)));
  const reserved = savePath === undefined || noFile ? undefined : await readReservation(savePath);
  if (reserved !== undefined && reserved.secretId !== secretId) {
    throw new CliError('CONFLICT', `${savePath} is reserved for ${reserved.secretId}, not ${secretId}; choose another --save-token. Nothing changed`);
  }
  const unfinished = versions.unfinished?.versionId;
  if (unfinished !== undefined) {
    if (reserved !== undefined && reserved.versionId !== unfinished) {
      throw new CliError('CONFLICT', `${savePath} is reserved for version ${reserved.versionId}, but version ${unfinished} is the unfinished rotation; choose another --save-token. Nothing changed`);
    }
    return { versionId: unfinished, resume: 'pending', tokenPath: fileFor(unfinished), currentVersionId };
  }
  const candidates = reserved !== undefined ? [{ ...reserved, path: savePath! }] : noFile || savePath !== undefined ? [] : await findReservations(cwd, kind, secretId);
  for (const candidate of candidates) {
    const version = versions.versions.find((v) => v.versionId === candidate.versionId);
    const known = version !== undefined || (await readValue(client, secretId, { versionId: candidate.versionId })) !== undefined;
    const unclaimed = version !== undefined && isResumableCandidate(version, versions);
    if (!known || unclaimed || candidate.versionId === currentVersionId) return { versionId: candidate.versionId, resume: 'reservation', tokenPath: candidate.path, currentVersionId };
    if (reserved !== undefined) {
      throw new CliError('CONFLICT', `${savePath} is reserved for version ${candidate.versionId}, which is no longer pending (a rollback cancelled it); choose another --save-token. Nothing changed`);
    }
  }
  // A run stopped between its put and its claim: nothing was handed over or set, and resuming keeps the version it made.
  const orphan = versions.versions.find((v) => isResumableCandidate(v, versions));
  if (orphan !== undefined && reserved === undefined) {
    return { versionId: orphan.versionId, resume: 'candidate', tokenPath: fileFor(orphan.versionId), currentVersionId };
  }
  const newest = versions.versions[0];
  if (!force && versions.versions.length > 1 && newest?.createdMs !== undefined && now - newest.createdMs < MIN_ROTATION_INTERVAL_MS) {
    throw new CliError('CONFLICT', `${secretId} got a new version less than 10 minutes ago; AWS advises against rotating that often. Use --force to rotate anyway`);
  }
  const versionId = randomUUID();
  return { versionId, resume: undefined, tokenPath: fileFor(versionId), currentVersionId };
}
