import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** AWS Secrets Manager's four rotation steps, in order. */
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/**
 * How finishSecret leaves the version it replaces: `immediate` puts the `ROTATION_IMMEDIATE`
 * label on the new current version, so the engine refuses the previous value as soon as an
 * instance refreshes; `graceful` leaves it accepted for the engine's grace window.
 */
export type FinishMode = 'immediate' | 'graceful';

/** One version's value. Held in memory only, for the step that needs it; never logged. */
export interface VersionValue {
  readonly versionId: string;
  readonly value: string;
}

/** What every step gets. */
export interface StepContext<D> {
  /** The Secrets Manager client (a port: the composition root builds it). */
  readonly client: SecretsManagerClient;
  /** The secret's name or ARN. */
  readonly secretId: string;
  /** The ClientRequestToken of this rotation, which is the pending version's id. */
  readonly versionId: string;
  /** What this kind of secret needs besides Secrets Manager (a database admin connection, ...). */
  readonly deps: D;
}

/** createSecret: the AWSCURRENT version the new value is derived from. */
export interface CreateContext<D> extends StepContext<D> {
  readonly current: VersionValue;
}

/** setSecret and testSecret: the current version and the pending one (versionId). */
export interface PendingContext<D> extends StepContext<D> {
  readonly current: VersionValue;
  readonly pending: VersionValue;
}

/** After finishSecret: `current` is the new version, `previous` the one it replaced. */
export interface FinishedContext<D> extends StepContext<D> {
  readonly current: VersionValue;
  readonly previous: VersionValue | undefined;
}

/**
 * One kind of secret's part of a rotation. The generic steps (`rotation-steps.ts`) do the Secrets
 * Manager work (the pending version under an explicit ClientRequestToken, the AWSCURRENT move
 * naming the version it moves from, every check that makes a step idempotent); a module only
 * says how to make a value, apply it at its resource and prove it works. Shared by the CLI
 * (`secrets rotate <kind>`) and the Lambda handler.
 *
 * Every method may run more than once for the same version (a retried Lambda step, a re-run CLI
 * command): each must be idempotent. None may put a value in an error message or a log line.
 */
export interface RotationModule<D> {
  /** Stable kind name, also the CLI target: `admin-token`, `meta-verify-token`, `database-password`, `redis-password`. */
  readonly kind: string;
  /** The catalog name of the secret it rotates (`ADMIN_TOKEN`). */
  readonly secretName: string;
  /**
   * True for values an operator must distribute (tokens): the CLI hands the new value over (0600
   * file or --print) as soon as the pending version exists. False for credentials that never
   * leave the store (database and Redis passwords).
   */
  readonly handover: boolean;
  /** The value to store under AWSPENDING, derived from the current one where needed (same host, other user). */
  newValue(ctx: CreateContext<D>): Promise<string>;
  /** Makes the resource accept the pending value (ALTER ROLE, ACL SETUSER); tokens need nothing. */
  setSecret(ctx: PendingContext<D>): Promise<void>;
  /** Proves the pending value works (log in with it); changes nothing. Throws ROTATION_TEST_FAILED. */
  testSecret(ctx: PendingContext<D>): Promise<void>;
  /**
   * testSecret when the pending version has no value yet: Secrets Manager's configuration test
   * (RotateSecret with RotateImmediately false). Optional; without it the step only proves the
   * current value can be read.
   */
  testConfiguration?(ctx: CreateContext<D>): Promise<void>;
  /**
   * Whether `value` logs in at the resource now (false when refused for its credentials; any
   * other failure throws). Credentials only: what `secrets rotate` uses to find the version a
   * server sits on when AWSCURRENT's password no longer logs in (the repair), and `rollback` to
   * check the value it restores. Changes nothing.
   */
  logsIn?(deps: D, secretId: string, value: string): Promise<boolean>;
  /**
   * After AWSCURRENT moved and (in the CLI) instances were told to refresh: e.g. remove the old
   * password from a Redis ACL user. Optional. The Lambda handler never calls it (no instance is
   * told anything there), so a module must also tidy up in its next setSecret.
   */
  afterFinish?(ctx: FinishedContext<D>): Promise<void>;
}
