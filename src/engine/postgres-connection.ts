import type { Parsed, ValueKind } from './value-kinds.js';

/**
 * A PostgreSQL connection secret in either form it is stored in: a URL
 * (`postgresql://user:password@host:5432/db`), or the JSON that Secrets Manager's database
 * rotation writes (`{"engine":"postgres","host":...,"port":5432,"username":...,"password":...,
 * "dbname":...}`, RDS-managed rotation and AWS's rotation function templates alike). Parse errors
 * name the field and what was expected, never a value: this is a credential.
 */
export interface PostgresConnection {
  readonly form: 'url' | 'json';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
  /**
   * A URL for drivers and tools: the original text for the URL form, built from the fields for
   * the JSON form. Carries the password.
   */
  readonly url: string;
}

/** Secrets Manager caps a secret at 64 KiB; a connection secret is far smaller. */
const MAX_JSON_BYTES = 16 * 1024;
const DEFAULT_PORT = 5432;
/** AWS's templates connect to `postgres` when the secret names no database. */
const DEFAULT_JSON_DATABASE = 'postgres';

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (reason: string): Parsed<never> => ({ ok: false, reason });

export function parsePostgresConnection(raw: string): Parsed<PostgresConnection> {
  return /^\s*[{[]/.test(raw) ? parseJsonForm(raw) : parseUrlForm(raw);
}

function parseUrlForm(raw: string): Parsed<PostgresConnection> {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // The URL parser's own message quotes the input; ours must not.
    return fail('not a valid URL or JSON object (expected a postgres URL or RDS secret JSON)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') return fail('wrong scheme (expected postgres: or postgresql:)');
  const socketHost = parsed.searchParams.get('host');
  if (parsed.hostname === '' && socketHost === null) return fail('has no host');
  const port = parsed.port === '' ? DEFAULT_PORT : Number(parsed.port);
  let user: string;
  let password: string | undefined;
  let database: string;
  try {
    user = decodeURIComponent(parsed.username);
    password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
    database = decodeURIComponent(parsed.pathname.slice(1));
  } catch {
    return fail('has a malformed percent-encoding');
  }
  return ok({ form: 'url', host: parsed.hostname || (socketHost ?? ''), port, user, password, database: database || user, url: raw });
}

function parseJsonForm(raw: string): Parsed<PostgresConnection> {
  if (Buffer.byteLength(raw, 'utf8') > MAX_JSON_BYTES) return fail(`JSON larger than ${MAX_JSON_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('not valid JSON (expected an RDS secret JSON object)');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('JSON is not an object');
  const o = value as Record<string, unknown>;
  if (o.engine !== undefined && o.engine !== 'postgres' && o.engine !== 'postgresql') return fail('field engine is not postgres');
  const host = o.host;
  if (typeof host !== 'string' || host.trim() === '' || host.length > 255) return fail('field host must be a non-empty string');
  const username = o.username;
  if (typeof username !== 'string' || username === '' || username.length > 63) return fail('field username must be a non-empty string of at most 63 characters');
  const password = o.password;
  if (typeof password !== 'string' || password === '') return fail('field password must be a non-empty string');
  let port = DEFAULT_PORT;
  if (o.port !== undefined) {
    // AWS's own secrets carry the port as a number; hand-written ones often as a string.
    const n = typeof o.port === 'string' && /^\d{1,5}$/.test(o.port) ? Number(o.port) : o.port;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65_535) return fail('field port must be an integer from 1 to 65535');
    port = n;
  }
  let database = DEFAULT_JSON_DATABASE;
  if (o.dbname !== undefined) {
    if (typeof o.dbname !== 'string' || o.dbname === '' || o.dbname.length > 63) return fail('field dbname must be a non-empty string of at most 63 characters');
    database = o.dbname;
  }
  let url: URL;
  try {
    url = new URL(`postgresql://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`);
  } catch {
    return fail('field host is not a valid host name');
  }
  // Encoded ourselves: the URL setters leave a literal '%' as it is, which no parser reads back.
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(database)}`;
  return ok({ form: 'json', host, port, user: username, password, database, url: url.toString() });
}

/**
 * DATABASE_URL's kind: either form is accepted everywhere the URL is (the service, `migrate`,
 * `secrets setup`, `secrets check`), and `get()` yields one connection URL for drivers. The JSON
 * form's password is then also the password of that URL, which the log scrubber extracts.
 */
export function postgresConnection(): ValueKind<string> {
  return {
    label: 'postgres URL or RDS secret JSON',
    parse(raw) {
      const parsed = parsePostgresConnection(raw);
      return parsed.ok ? ok(parsed.value.url) : parsed;
    },
  };
}
