/**
 * The service's error hierarchy. Every error has a stable string `code`; the HTTP status and the
 * public message for each code are decided once, in `error-handler.ts`. Messages name settings,
 * secrets and codes, never a value.
 */
export type ServiceErrorCode =
  | 'CONFIG_INVALID'
  | 'UNAUTHORIZED'
  | 'ADMIN_UNAUTHORIZED'
  | 'THROTTLED'
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  | 'INVALID_SIGNATURE'
  | 'DATABASE_UNAVAILABLE'
  | 'OVERLOADED'
  | 'ENV_FILE_FAILED'
  | 'DEV_DEPENDENCY_FAILED';

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;

  constructor(code: ServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceError';
    this.code = code;
  }
}

/** A setting (not a secret) is malformed. Names the variable and what was expected, never the input. */
export class ConfigError extends ServiceError {
  readonly setting: string;

  constructor(setting: string, expected: string) {
    super('CONFIG_INVALID', `Invalid setting ${setting}: expected ${expected}`);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

export class UnauthorizedError extends ServiceError {
  constructor() {
    super('UNAUTHORIZED', 'Missing or invalid credentials');
    this.name = 'UnauthorizedError';
  }
}

/** No admin token, or not an accepted one: the public message names the header to send, nothing more. */
export class AdminUnauthorizedError extends ServiceError {
  constructor() {
    super('ADMIN_UNAUTHORIZED', 'Missing or invalid admin token');
    this.name = 'AdminUnauthorizedError';
  }
}

/** Too many failed credentials from one client: the caller may retry after `retryAfterSeconds`. */
export class ThrottledError extends ServiceError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('THROTTLED', 'Too many failed attempts');
    this.name = 'ThrottledError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class ForbiddenError extends ServiceError {
  constructor() {
    super('FORBIDDEN', 'Forbidden');
    this.name = 'ForbiddenError';
  }
}

/** The request is malformed; `reason` is ours (never the parser's message, which may quote input). */
export class BadRequestError extends ServiceError {
  constructor(reason: string) {
    super('BAD_REQUEST', reason);
    this.name = 'BadRequestError';
  }
}

export class InvalidSignatureError extends ServiceError {
  constructor() {
    super('INVALID_SIGNATURE', 'Invalid webhook signature');
    this.name = 'InvalidSignatureError';
  }
}

/** How long a client is told to wait when PostgreSQL cannot be used (Meta retries its deliveries). */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * PostgreSQL is unreachable, not migrated yet, or refuses our credentials (28P01/28000 during a
 * password change); `dbCode` is the driver's or server's code. 503 with Retry-After at the edge.
 */
export class DatabaseUnavailableError extends ServiceError {
  readonly dbCode: string;
  readonly retryAfterSeconds: number;

  constructor(dbCode: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super('DATABASE_UNAVAILABLE', `Database unavailable: ${dbCode}`, options);
    this.name = 'DatabaseUnavailableError';
    this.dbCode = dbCode;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? DATABASE_RETRY_AFTER_SECONDS;
  }
}

/**
 * More webhook deliveries are waiting to be stored than the queue holds (WEBHOOK_QUEUE_MAX): this
 * one is refused at once, 503 with Retry-After, rather than queued without bound. Meta retries.
 */
export class WebhookOverloadedError extends ServiceError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('OVERLOADED', 'Too many webhook deliveries waiting to be stored');
    this.name = 'WebhookOverloadedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class EnvFileError extends ServiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENV_FILE_FAILED', message, options);
    this.name = 'EnvFileError';
  }
}

/** `npm run dev` could not stand in for a missing local dependency (see dev-dependencies.ts). */
export class DevDependencyError extends ServiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEV_DEPENDENCY_FAILED', message, options);
    this.name = 'DevDependencyError';
  }
}
