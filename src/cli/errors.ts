// The module itself, not the engine's index: `secrets --help` (help-only.ts) loads this file, and the index would load the AWS SDK.
import { classifyAwsError } from '../engine/aws-error.js';

/** CLI failures, each with a stable code; the exit code is decided in one table below. */
export type CliErrorCode = 'USAGE' | 'CANCELLED' | 'NOT_FOUND' | 'ACCESS_DENIED' | 'THROTTLED' | 'CREDENTIALS' | 'CONFLICT' | 'FAILED';

export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

export const EXIT_CODES: Readonly<Record<CliErrorCode | 'OK', number>> = {
  OK: 0,
  USAGE: 2,
  CANCELLED: 130,
  NOT_FOUND: 1,
  ACCESS_DENIED: 1,
  THROTTLED: 1,
  CREDENTIALS: 1,
  CONFLICT: 1,
  FAILED: 1,
};

/** One line, what to set; the local endpoint (a loopback --endpoint-url) needs none. */
export const NO_CREDENTIALS =
  'No AWS credentials found: set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on a role; a local endpoint (--endpoint-url http://127.0.0.1:PORT) needs none';

/** An AWS SDK error as a CliError naming the secret id and the AWS code, never a message body. */
export function fromAwsError(err: unknown, secretId: string): CliError {
  const { code, unreachable } = classifyAwsError(err);
  switch (code) {
    case 'ResourceNotFoundException':
      return new CliError('NOT_FOUND', `Secret ${secretId} not found (ResourceNotFoundException). Run: secrets setup`, { cause: err });
    case 'AccessDeniedException':
      return new CliError('ACCESS_DENIED', `Access denied to ${secretId} (AccessDeniedException): check the caller's IAM policy (secrets iam)`, { cause: err });
    case 'ThrottlingException':
      return new CliError('THROTTLED', `Secrets Manager throttled the request for ${secretId} (ThrottlingException): retry in a moment`, { cause: err });
    case 'CredentialsProviderError':
      return new CliError('CREDENTIALS', NO_CREDENTIALS, { cause: err });
    default:
      if (unreachable) {
        return new CliError('FAILED', `Cannot reach Secrets Manager for ${secretId} (${code}): check the network, --region and --endpoint-url`, { cause: err });
      }
      return new CliError('FAILED', `Secrets Manager call for ${secretId} failed (${code})`, { cause: err });
  }
}
