import { CODE_SHAPE, errorCode } from './aws-error.js';

/**
 * The stable code of a PostgreSQL or Redis driver's error, for logs, metrics, health answers and
 * rotation messages: pg's SQLSTATE (`28P01`), a Redis error reply's prefix (`WRONGPASS`,
 * `NOAUTH`, `NOPERM`), a socket code (`ECONNREFUSED`), else what `errorCode` calls it, else
 * `Timeout` for a driver's own timeout, else `UnknownError`. By code only, never the message,
 * which may quote a connection string or a statement carrying a password: the one part of a
 * message ever returned is a Redis reply's leading upper-case word.
 */
export function driverErrorCode(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; dbCode?: unknown; message?: unknown };
  if (typeof e.dbCode === 'string' && CODE_SHAPE.test(e.dbCode)) return e.dbCode;
  if (typeof e.code === 'string' && CODE_SHAPE.test(e.code)) return e.code;
  const message = typeof e.message === 'string' ? e.message : '';
  const replyPrefix = /^([A-Z]{3,20})\b/.exec(message)?.[1];
  if (replyPrefix !== undefined && replyPrefix !== 'ERR') return replyPrefix;
  const code = errorCode(err);
  // pg names its protocol errors 'error'; without a code that says nothing.
  if (code !== 'UnknownError' && code !== 'error') return code;
  return /timeout/i.test(message) ? 'Timeout' : 'UnknownError';
}
