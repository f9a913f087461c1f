/**
 * The engine's error hierarchy. Every error carries a stable `code`; messages name secrets,
 * settings and AWS error codes, never a value. HTTP statuses and CLI exit codes are decided at
 * the edges (service, CLI), not here.
 */
export type SecretsErrorCode =
  | 'SECRETS_NOT_INITIALIZED'
  | 'SECRETS_MISSING_REQUIRED'
  | 'SECRETS_INVALID_CONFIG'
  | 'SECRETS_SOURCE_FAILED'
  | 'SECRETS_ENV_FILE'
  | 'SECRETS_CLOSED';

export class SecretsError extends Error {
  readonly code: SecretsErrorCode;

  constructor(code: SecretsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretsError';
    this.code = code;
  }
}

export interface SecretProblem {
  readonly name: string;
  /** Why, in words that never contain the value: "missing", "not an integer", an AWS error code. */
  readonly reason: string;
}

/** Start-up found required secrets missing or invalid: one error listing every bad name. */
export class MissingSecretsError extends SecretsError {
  readonly problems: readonly SecretProblem[];

  constructor(problems: readonly SecretProblem[]) {
    super(
      'SECRETS_MISSING_REQUIRED',
      `Secrets initialization failed: missing or invalid required secrets: ${problems
        .map((p) => `${p.name} (${p.reason})`)
        .join(', ')}`,
    );
    this.name = 'MissingSecretsError';
    this.problems = problems;
  }
}

/** A whole load or refresh attempt failed (the source could not be reached at all). */
export class SourceError extends SecretsError {
  /** The AWS error name, a Node network code, or one of ours (e.g. `AttemptTimeout`). */
  readonly sourceCode: string;
  readonly transient: boolean;

  constructor(sourceCode: string, transient: boolean, options?: { cause?: unknown }) {
    super('SECRETS_SOURCE_FAILED', `Secret source failed: ${sourceCode}`, options);
    this.name = 'SourceError';
    this.sourceCode = sourceCode;
    this.transient = transient;
  }
}
