/**
 * Sorting AWS SDK and network errors into transient (retried quietly with backoff) and the rest
 * (survived too, but reported at error level), by name or code only: an error's message may
 * quote request data.
 */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  'AttemptTimeout',
]);

const TRANSIENT_NETWORK_CODES = new Set([
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

export interface ClassifiedError {
  readonly code: string;
  readonly transient: boolean;
}

export function classifyAwsError(err: unknown): ClassifiedError {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && (TRANSIENT_NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) {
    return { code, transient: true };
  }
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : (code ?? 'UnknownError');
  if (TRANSIENT_NAMES.has(name)) return { code: name, transient: true };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return { code: name, transient: true };
  return { code: name, transient: false };
}
