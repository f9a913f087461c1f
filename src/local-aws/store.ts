import { randomInt } from 'node:crypto';
import { AwsServiceError } from './errors.js';
import type { RotationRules } from './rotation-schedule.js';

/**
 * The secret / version / staging-label model of AWS Secrets Manager, in memory. Rules follow the
 * API reference (PutSecretValue, UpdateSecretVersionStage, DeleteSecret, RestoreSecret):
 * - a staging label is attached to at most one version of a secret;
 * - moving AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left (the old AWSPREVIOUS
 *   loses it);
 * - a version without labels is deprecated; past 100 versions the oldest deprecated ones go;
 * - a secret scheduled for deletion keeps its data until its deletion date, then is gone.
 * Every method runs to completion synchronously, so concurrent requests never interleave inside
 * one: that is what makes UpdateSecretVersionStage's RemoveFromVersionId check a compare-and-set.
 */

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';
/** "Secrets Manager keeps 100 of the most recent versions" (PutSecretValue). */
export const MAX_VERSIONS_PER_SECRET = 100;
/** SecretVersionStagesType: at most 20 labels on one version. */
export const MAX_STAGES_PER_VERSION = 20;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * A version's data: exactly one of the two is set, except for the empty version RotateSecret
 * creates for its ClientRequestToken, which the rotation function's createSecret step fills.
 */
export interface SecretPayload {
  readonly secretString?: string;
  /** Base64, as on the wire. */
  readonly secretBinary?: string;
}

export interface SecretVersion {
  readonly versionId: string;
  payload: SecretPayload;
  readonly createdMs: number;
  /** Insertion-ordered labels. */
  readonly stages: Set<string>;
  /** Day resolution, as AWS reports it. */
  lastAccessedMs?: number;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  description?: string;
  /** Tag key -> value, insertion-ordered. */
  readonly tags: Map<string, string>;
  /** Version id -> version, in creation order. */
  readonly versions: Map<string, SecretVersion>;
  readonly createdMs: number;
  lastChangedMs: number;
  /** Day resolution, as AWS reports it. */
  lastAccessedMs?: number;
  /** When DeleteSecret was called; set while the secret is scheduled for deletion. */
  deletedMs?: number;
  /** When the scheduled deletion becomes permanent. */
  deletionMs?: number;
  /** Set by RotateSecret; `enabled` cleared by CancelRotateSecret. */
  rotation?: RotationConfig;
  /** Set on a replica: the region of its primary secret. Writes to a replica are refused. */
  primaryRegion?: string;
  /** On a primary: its replicas by region, in the order they were added. */
  readonly replicas?: Map<string, ReplicaState>;
}

/** One replica of a primary secret, as DescribeSecret's ReplicationStatus reports it. */
export interface ReplicaState {
  readonly region: string;
  readonly kmsKeyId?: string;
  status: 'InSync' | 'InProgress' | 'Failed';
  statusMessage?: string;
}

export interface RotationConfig {
  enabled: boolean;
  lambdaArn: string;
  rules?: RotationRules;
  lastRotatedMs?: number;
  /** Start of the next rotation window, while rotation is enabled and has a schedule. */
  nextRotationMs?: number;
}

/** A version with no data yet (RotateSecret's placeholder for AWSPENDING). */
export function hasValue(version: SecretVersion): boolean {
  return version.payload.secretString !== undefined || version.payload.secretBinary !== undefined;
}

/** AWS's answer to RotateSecret while AWSPENDING sits on a version that is not AWSCURRENT. */
export function rotationInProgressError(): AwsServiceError {
  return new AwsServiceError('InvalidRequestException', "A previous rotation isn't complete. That rotation will be reattempted.");
}

export interface StoreOptions {
  readonly region: string;
  readonly accountId: string;
  readonly clock: Clock;
}

export interface CreateSecretInput {
  readonly name: string;
  readonly description?: string;
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly payload?: SecretPayload;
  /** The ClientRequestToken: becomes the first version's id when a payload is given. */
  readonly versionId: string;
}

export interface PutValueInput {
  readonly versionId: string;
  readonly payload: SecretPayload;
  /** Labels for the new version; AWSCURRENT when absent. */
  readonly stages?: readonly string[];
}

export interface UpdateStageInput {
  readonly stage: string;
  readonly moveToVersionId?: string;
  readonly removeFromVersionId?: string;
}

export interface VersionSelector {
  readonly versionId?: string;
  readonly versionStage?: string;
}

export class SecretStore {
  private readonly secrets = new Map<string, SecretRecord>();

  constructor(private readonly options: StoreOptions) {}

  clear(): void {
    this.secrets.clear();
  }

  /** Every secret still stored (scheduled deletions included), in creation order. */
  all(): SecretRecord[] {
    this.purgeExpiredDeletions();
    return [...this.secrets.values()];
  }

  /** By name, full ARN, or partial ARN (the ARN without its 6-character suffix). */
  find(secretId: string): SecretRecord | undefined {
    this.purgeExpiredDeletions();
    if (!secretId.startsWith('arn:')) return this.secrets.get(secretId);
    for (const secret of this.secrets.values()) {
      if (secret.arn === secretId || this.partialArn(secret.name) === secretId) return secret;
    }
    return undefined;
  }

  /** The secret, or ResourceNotFoundException. Scheduled deletions included. */
  get(secretId: string): SecretRecord {
    const secret = this.find(secretId);
    if (!secret) {
      throw new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return secret;
  }

  /** The secret, or ResourceNotFoundException / InvalidRequestException (scheduled for deletion). */
  getActive(secretId: string): SecretRecord {
    const secret = this.get(secretId);
    if (secret.deletedMs !== undefined) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  /**
   * Creates a secret, with a first version labelled AWSCURRENT when a payload is given. A retry
   * of the same create (same name, same ClientRequestToken, same data) returns the existing
   * secret, as the ClientRequestToken contract promises; anything else on an existing name is
   * ResourceExistsException.
   */
  create(input: CreateSecretInput): { secret: SecretRecord; version?: SecretVersion } {
    const existing = this.find(input.name);
    if (existing) {
      if (existing.deletedMs !== undefined) {
        throw new AwsServiceError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      const sameVersion = existing.versions.get(input.versionId);
      if (sameVersion && input.payload && samePayload(sameVersion.payload, input.payload)) {
        return { secret: existing, version: sameVersion };
      }
      throw new AwsServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${input.name} already exists.`,
      );
    }
    const now = this.options.clock.now();
    const secret: SecretRecord = {
      arn: `${this.partialArn(input.name)}-${randomArnSuffix()}`,
      name: input.name,
      tags: new Map(input.tags),
      versions: new Map(),
      createdMs: now,
      lastChangedMs: now,
      replicas: new Map(),
    };
    if (input.description !== undefined) secret.description = input.description;
    this.secrets.set(secret.name, secret);
    if (!input.payload) return { secret };
    const version = this.putValue(secret, { versionId: input.versionId, payload: input.payload });
    return { secret, version };
  }

  /** The version named by id and/or label (AWSCURRENT by default); records the access. */
  readVersion(secret: SecretRecord, selector: VersionSelector): SecretVersion {
    const version = this.selectVersion(secret, selector);
    const today = startOfUtcDay(this.options.clock.now());
    version.lastAccessedMs = today;
    secret.lastAccessedMs = today;
    return version;
  }

  /** UpdateSecret's Description. */
  describeAs(secret: SecretRecord, description: string): void {
    secret.description = description;
    secret.lastChangedMs = this.options.clock.now();
  }

  /**
   * Adds a version (PutSecretValue). Same ClientRequestToken + same data: returns the existing
   * version and changes nothing; same token + other data: ResourceExistsException.
   */
  putValue(secret: SecretRecord, input: PutValueInput): SecretVersion {
    const existing = secret.versions.get(input.versionId);
    if (existing && !hasValue(existing)) {
      // The rotation function's createSecret step filling RotateSecret's placeholder version.
      existing.payload = input.payload;
      for (const stage of input.stages ?? [AWSCURRENT]) this.attachStage(secret, existing, stage);
      secret.lastChangedMs = this.options.clock.now();
      return existing;
    }
    if (existing) {
      if (samePayload(existing.payload, input.payload)) return existing;
      throw new AwsServiceError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const stages = [...new Set(input.stages ?? [AWSCURRENT])];
    // "If this operation creates the first version for the secret, then Secrets Manager
    // automatically attaches the staging label AWSCURRENT to it."
    if (secret.versions.size === 0 && !stages.includes(AWSCURRENT)) stages.push(AWSCURRENT);
    if (stages.length > MAX_STAGES_PER_VERSION) throw tooManyStages();

    const now = this.options.clock.now();
    const version: SecretVersion = {
      versionId: input.versionId,
      payload: input.payload,
      createdMs: now,
      stages: new Set(),
    };
    secret.versions.set(version.versionId, version);
    for (const stage of stages) this.attachStage(secret, version, stage);
    this.pruneDeprecatedVersions(secret);
    secret.lastChangedMs = now;
    return version;
  }

  /**
   * UpdateSecretVersionStage. If the label is attached to a version, RemoveFromVersionId must name
   * exactly that version or the call fails with InvalidParameterException: two rollbacks that read
   * the same state therefore cannot both win.
   */
  updateVersionStage(secret: SecretRecord, input: UpdateStageInput): void {
    const { stage, moveToVersionId, removeFromVersionId } = input;
    if (moveToVersionId === undefined && removeFromVersionId === undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'You must specify MoveToVersionId, RemoveFromVersionId, or both.',
      );
    }
    const target = moveToVersionId === undefined ? undefined : secret.versions.get(moveToVersionId);
    if (moveToVersionId !== undefined && !target) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret version: ${moveToVersionId}`,
      );
    }
    const holder = this.holderOf(secret, stage);
    if (removeFromVersionId !== undefined) {
      if (!holder) {
        throw new AwsServiceError(
          'InvalidParameterException',
          `The staging label ${stage} isn't attached to version ${removeFromVersionId}, so it can't be removed from it.`,
        );
      }
      if (holder.versionId !== removeFromVersionId) {
        throw new AwsServiceError(
          'InvalidParameterException',
          `When you move staging label ${stage}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label ${stage}.`,
        );
      }
    } else if (holder && holder !== target) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }

    if (!target) {
      // Removal only: the version then may be deprecated. AWSCURRENT can only be moved, never
      // dropped, or the secret would have no current value.
      if (stage === AWSCURRENT) {
        throw new AwsServiceError(
          'InvalidParameterException',
          `You can't remove the staging label ${AWSCURRENT} from a version without moving it to another version with MoveToVersionId.`,
        );
      }
      holder?.stages.delete(stage);
    } else {
      if (!target.stages.has(stage) && target.stages.size >= MAX_STAGES_PER_VERSION) throw tooManyStages();
      this.attachStage(secret, target, stage);
    }
    secret.lastChangedMs = this.options.clock.now();
  }

  /** TagResource: adds tags, replacing the value of a key already present. */
  tag(secret: SecretRecord, tags: ReadonlyArray<readonly [string, string]>): void {
    for (const [key, value] of tags) secret.tags.set(key, value);
    secret.lastChangedMs = this.options.clock.now();
  }

  /** UntagResource: removes the keys; keys not attached are ignored. */
  untag(secret: SecretRecord, keys: readonly string[]): void {
    for (const key of keys) secret.tags.delete(key);
    secret.lastChangedMs = this.options.clock.now();
  }

  /** DeleteSecret with a recovery window; returns the deletion date (ms). */
  scheduleDeletion(secret: SecretRecord, recoveryWindowDays: number): number {
    if (secret.deletedMs !== undefined) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was already scheduled for deletion.",
      );
    }
    const now = this.options.clock.now();
    secret.deletedMs = now;
    secret.deletionMs = now + recoveryWindowDays * DAY_MS;
    secret.lastChangedMs = now;
    return secret.deletionMs;
  }

  /** DeleteSecret with ForceDeleteWithoutRecovery: gone at once; returns the deletion date (ms). */
  forceDelete(secret: SecretRecord): number {
    this.secrets.delete(secret.name);
    return this.options.clock.now();
  }

  /** RestoreSecret: cancels a scheduled deletion (a no-op on a secret not scheduled). */
  restore(secret: SecretRecord): void {
    if (secret.deletedMs === undefined) return;
    delete secret.deletedMs;
    delete secret.deletionMs;
    secret.lastChangedMs = this.options.clock.now();
  }

  /**
   * RotateSecret's first act: an empty version with the ClientRequestToken as its id, labelled
   * AWSPENDING (taking the label from AWSCURRENT's version, where a finished rotation may leave
   * it). Fails as AWS does while AWSPENDING is still on another version.
   */
  createPendingVersion(secret: SecretRecord, token: string): SecretVersion {
    const pending = this.holderOf(secret, AWSPENDING);
    if (pending && !pending.stages.has(AWSCURRENT) && pending.versionId !== token) throw rotationInProgressError();
    const existing = secret.versions.get(token);
    if (existing) {
      if (existing.stages.has(AWSPENDING) && !existing.stages.has(AWSCURRENT)) return existing;
      throw new AwsServiceError('ResourceExistsException', 'A version with this ClientRequestToken already exists.');
    }
    pending?.stages.delete(AWSPENDING);
    const now = this.options.clock.now();
    const version: SecretVersion = { versionId: token, payload: {}, createdMs: now, stages: new Set([AWSPENDING]) };
    secret.versions.set(token, version);
    this.pruneDeprecatedVersions(secret);
    secret.lastChangedMs = now;
    return version;
  }

  /** Takes a label off whichever version has it (a test rotation's placeholder, for one). */
  dropStage(secret: SecretRecord, stage: string): void {
    this.holderOf(secret, stage)?.stages.delete(stage);
  }

  /** The region whose ARNs this store issues. */
  get region(): string {
    return this.options.region;
  }

  /**
   * Adds the replica of `primary` (a secret of another region's store): same name, same ARN
   * suffix, this store's region. Its data arrives with `copyReplicaData`.
   */
  insertReplica(primary: SecretRecord, primaryRegion: string): SecretRecord {
    const now = this.options.clock.now();
    const replica: SecretRecord = {
      arn: `${this.partialArn(primary.name)}-${primary.arn.slice(-6)}`,
      name: primary.name,
      tags: new Map(),
      versions: new Map(),
      createdMs: now,
      lastChangedMs: now,
      primaryRegion,
    };
    this.secrets.set(replica.name, replica);
    return replica;
  }

  /** Drops a secret at once (a replica removed from replication). */
  remove(secret: SecretRecord): void {
    if (this.secrets.get(secret.name) === secret) this.secrets.delete(secret.name);
  }

  /** The ARN a secret of that name has before its random suffix. */
  partialArn(name: string): string {
    return `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:${name}`;
  }

  /** The version that has `stage`, if any. */
  holderOf(secret: SecretRecord, stage: string): SecretVersion | undefined {
    for (const version of secret.versions.values()) {
      if (version.stages.has(stage)) return version;
    }
    return undefined;
  }

  private selectVersion(secret: SecretRecord, selector: VersionSelector): SecretVersion {
    const { versionId, versionStage } = selector;
    if (versionId !== undefined) {
      const version = secret.versions.get(versionId);
      if (!version) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      if (versionStage !== undefined && !version.stages.has(versionStage)) {
        throw new AwsServiceError(
          'InvalidRequestException',
          'You provided a VersionStage that is not associated to the provided VersionId.',
        );
      }
      if (!hasValue(version)) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      return version;
    }
    const stage = versionStage ?? AWSCURRENT;
    const version = this.holderOf(secret, stage);
    if (!version || !hasValue(version)) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
      );
    }
    return version;
  }

  /** Attaches `stage` to `target`, taking it from its holder; AWSCURRENT drags AWSPREVIOUS along. */
  private attachStage(secret: SecretRecord, target: SecretVersion, stage: string): void {
    const holder = this.holderOf(secret, stage);
    if (holder === target) return;
    if (stage === AWSCURRENT && holder) {
      this.holderOf(secret, AWSPREVIOUS)?.stages.delete(AWSPREVIOUS);
      holder.stages.add(AWSPREVIOUS);
    }
    holder?.stages.delete(stage);
    target.stages.add(stage);
  }

  private pruneDeprecatedVersions(secret: SecretRecord): void {
    for (const version of [...secret.versions.values()]) {
      if (secret.versions.size <= MAX_VERSIONS_PER_SECRET) return;
      if (version.stages.size === 0) secret.versions.delete(version.versionId);
    }
  }

  private purgeExpiredDeletions(): void {
    const now = this.options.clock.now();
    for (const secret of [...this.secrets.values()]) {
      if (secret.deletionMs !== undefined && secret.deletionMs <= now) this.secrets.delete(secret.name);
    }
  }
}

export function samePayload(a: SecretPayload, b: SecretPayload): boolean {
  return a.secretString === b.secretString && a.secretBinary === b.secretBinary;
}

function tooManyStages(): AwsServiceError {
  return new AwsServiceError(
    'LimitExceededException',
    `A version can have at most ${MAX_STAGES_PER_VERSION} staging labels.`,
  );
}

function startOfUtcDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomArnSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 6; i += 1) suffix += ARN_SUFFIX_ALPHABET.charAt(randomInt(ARN_SUFFIX_ALPHABET.length));
  return suffix;
}
