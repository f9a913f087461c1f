/** Where a default local dependency is expected: a loopback host and a port. */
export interface LocalTarget {
  readonly host: string;
  readonly port: number;
}

type Settings = Readonly<Record<string, string | undefined>>;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * The target of DATABASE_URL or REDIS_URL when it was "given by default": `npm run dev` may then
 * stand in for a missing server (an embedded PostgreSQL; a single instance without Redis). Given by
 * default means all of:
 *
 * - the process environment does not set it (a value there was put there on purpose: CI, a
 *   container, a shell export), only the `.env` file does;
 * - it has the form the `.env` bootstrap writes: PostgreSQL as user `postgres` with no password,
 *   or Redis with neither user nor password, on 127.0.0.1, localhost or ::1, any port, no query
 *   string (no sslmode or other options someone chose).
 *
 * Anything else (a password, another host or user, `rediss:`, the RDS JSON form) is an explicit
 * setting and is never stood in for. Parsing never throws and never echoes the value.
 */
export function defaultLocalTarget(name: 'DATABASE_URL' | 'REDIS_URL', fileSettings: Settings, env: Settings): LocalTarget | undefined {
  if ((env[name]?.trim() ?? '') !== '') return undefined;
  const value = fileSettings[name]?.trim() ?? '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!LOOPBACK.has(host) || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (name === 'DATABASE_URL') {
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
    if (url.username !== 'postgres' || !/^\/[^/]+$/.test(url.pathname)) return undefined;
    return { host, port: url.port === '' ? 5432 : Number(url.port) };
  }
  if (url.protocol !== 'redis:' || url.username !== '' || !/^(\/\d*)?$/.test(url.pathname)) return undefined;
  return { host, port: url.port === '' ? 6379 : Number(url.port) };
}
