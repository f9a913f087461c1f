import { RotationError, type RotationErrorCode } from '../rotation/index.js';
import { CliError, fromAwsError, type CliErrorCode } from './errors.js';

const CLI_CODES: Readonly<Record<RotationErrorCode, CliErrorCode>> = {
  ROTATION_BAD_EVENT: 'USAGE',
  ROTATION_NOT_ENABLED: 'CONFLICT',
  ROTATION_UNKNOWN_VERSION: 'NOT_FOUND',
  ROTATION_NOT_PENDING: 'CONFLICT',
  ROTATION_NO_CURRENT: 'NOT_FOUND',
  ROTATION_UNKNOWN_SECRET: 'FAILED',
  ROTATION_BAD_VALUE: 'FAILED',
  ROTATION_MISCONFIGURED: 'USAGE',
  ROTATION_SET_FAILED: 'FAILED',
  ROTATION_TEST_FAILED: 'FAILED',
  ROTATION_CONFLICT: 'CONFLICT',
  ROTATION_IN_PROGRESS: 'CONFLICT',
  ROTATION_OUTCOME_UNKNOWN: 'FAILED',
};

/** Any failure of a rotation or rollback as a CliError: its own, a rotation step's, or an AWS call's. */
export function cliErrorOf(err: unknown, secretId: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof RotationError) return new CliError(CLI_CODES[err.code], err.message, { cause: err });
  return fromAwsError(err, secretId);
}
