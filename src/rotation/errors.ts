/**
 * Rotation failures, each with a stable `code`. Messages name the secret, the version id and the
 * step, never a value. AWS SDK errors pass through unchanged (their names are their codes); these
 * are the conditions the rotation protocol itself detects.
 */
export type RotationErrorCode =
  /** The Lambda event is not `{ SecretId, ClientRequestToken, Step }` with a known step. */
  | 'ROTATION_BAD_EVENT'
  /** DescribeSecret says rotation is not enabled for the secret (Lambda only, as AWS's templates check). */
  | 'ROTATION_NOT_ENABLED'
  /** The client request token is not a version of the secret. */
  | 'ROTATION_UNKNOWN_VERSION'
  /** The version exists but carries neither AWSCURRENT nor AWSPENDING. */
  | 'ROTATION_NOT_PENDING'
  /** The secret has no AWSCURRENT version to rotate from. */
  | 'ROTATION_NO_CURRENT'
  /** No rotation module handles this secret. */
  | 'ROTATION_UNKNOWN_SECRET'
  /** The secret's value (or its master secret's) is not in a form this module rotates. */
  | 'ROTATION_BAD_VALUE'
  /** A setting the strategy needs is missing (the master secret of alternating-users). */
  | 'ROTATION_MISCONFIGURED'
  /** setSecret could not apply the pending value at the resource. */
  | 'ROTATION_SET_FAILED'
  /** testSecret found that the pending value does not work. */
  | 'ROTATION_TEST_FAILED'
  /** AWSCURRENT moved while finishing (another rotation or rollback won): nothing changed here. */
  | 'ROTATION_CONFLICT'
  /**
   * Another version holds the rotation's claim (AWSPENDING): a rotation is in progress, so this
   * one did not start (as Secrets Manager's RotateSecret refuses). Resume that one instead.
   */
  | 'ROTATION_IN_PROGRESS'
  /** A write timed out or broke off: it may or may not have been applied. Re-running resumes. */
  | 'ROTATION_OUTCOME_UNKNOWN';

export class RotationError extends Error {
  readonly code: RotationErrorCode;
  /**
   * The version that holds the rotation's claim (AWSPENDING) when this run found it did not:
   * the one to resume. Null when no version holds it (a rollback cancelled the rotation).
   */
  readonly claimHolder: string | null | undefined;

  constructor(code: RotationErrorCode, message: string, options?: { cause?: unknown; claimHolder?: string | null }) {
    super(message, options);
    this.name = 'RotationError';
    this.code = code;
    this.claimHolder = options?.claimHolder;
  }
}
