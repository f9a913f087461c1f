/**
 * The one place that turns an AWS SDK, network or Node error into a stable code, and sorts it
 * into transient (retried quietly with backoff) or not (survived too, but reported at error
 * level). By name or code only: an error's message may quote request data.
 */
const SERVICE_TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** The service turned the call away for its rate: the caller's own load, worth spreading out. */
const THROTTLING_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

export function isThrottlingCode(code: string): boolean {
  return THROTTLING_NAMES.has(code);
}

/** The endpoint did not answer in time: transient, and "cannot reach" for a person. */
const TIMEOUT_NAMES = new Set(['RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'AbortError', 'AttemptTimeout']);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A code is a word (`ECONNREFUSED`, `ERR_STREAM_PREMATURE_CLOSE`, `28P01`), never free text. */
export const CODE_SHAPE = /^[A-Z0-9_]{2,64}$/i;

export interface ClassifiedError {
  /** The AWS exception name, a Node network code, or `UnknownError`. */
  readonly code: string;
  readonly transient: boolean;
  /** The endpoint could not be reached or did not answer in time (network error or timeout). */
  readonly unreachable: boolean;
}

export function classifyAwsError(err: unknown): ClassifiedError {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
  const nodeCode = typeof e.code === 'string' && CODE_SHAPE.test(e.code) ? e.code : undefined;
  if (nodeCode !== undefined && (NETWORK_CODES.has(nodeCode) || nodeCode.startsWith('UND_ERR_'))) {
    return { code: nodeCode, transient: true, unreachable: true };
  }
  const code = typeof e.name === 'string' && e.name !== 'Error' ? e.name : (nodeCode ?? 'UnknownError');
  if (TIMEOUT_NAMES.has(code)) return { code, transient: true, unreachable: true };
  const status = e.$metadata?.httpStatusCode;
  const transient = SERVICE_TRANSIENT_NAMES.has(code) || (status !== undefined && (status >= 500 || status === 429));
  return { code, transient, unreachable: false };
}

/** The stable code of any error, for logs and metrics: what `classifyAwsError` calls it. */
export function errorCode(err: unknown): string {
  return classifyAwsError(err).code;
}
