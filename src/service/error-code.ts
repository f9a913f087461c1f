import { errorCode } from '../engine/index.js';

/**
 * The stable code of a dependency's error, for logs, metrics and health answers: PostgreSQL's
 * SQLSTATE or Redis's error code where the driver gives one, otherwise what the engine calls it
 * (a network code such as ECONNREFUSED, an exception name, or `UnknownError`). By code or name
 * only, never the message: a driver's message may quote a connection string or a query.
 */
export function dependencyErrorCode(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; dbCode?: unknown };
  if (typeof e.dbCode === 'string') return e.dbCode;
  // pg's DatabaseError is named 'error' and carries the SQLSTATE as `code`; Node's errors carry theirs too.
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  return errorCode(err);
}
