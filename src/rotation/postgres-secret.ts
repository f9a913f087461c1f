import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { parsePostgresConnection, type PostgresConnection } from '../engine/index.js';
import { RotationError } from './errors.js';

/**
 * A database credential secret (DATABASE_URL, or the master secret) read for a rotation: the URL
 * or the RDS JSON form, parsed. Errors name the secret and the field, never the value.
 */
export function readPostgresSecret(raw: string, secretId: string): PostgresConnection {
  const parsed = parsePostgresConnection(raw);
  if (!parsed.ok) throw new RotationError('ROTATION_BAD_VALUE', `${secretId} is not a PostgreSQL connection secret: ${parsed.reason}`);
  return parsed.value;
}

/**
 * The same secret with another user and password, in the form it already has: the JSON form
 * keeps every other field (`masterarn`, `dbClusterIdentifier`, ...) in its order; the URL form
 * keeps host, port, database and parameters (`sslmode`).
 */
export function withCredentials(raw: string, secretId: string, user: string, password: string): string {
  const current = readPostgresSecret(raw, secretId);
  if (current.form === 'json') {
    const o = JSON.parse(raw) as Record<string, unknown>;
    return JSON.stringify({ ...o, username: user, password });
  }
  const url = new URL(raw);
  if (url.hostname === '') throw new RotationError('ROTATION_BAD_VALUE', `${secretId} names its host as a parameter (?host=); give it in the URL's authority to rotate it`);
  // Encoded ourselves: the URL setters leave a literal '%' as it is, which no parser reads back.
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** A secret's master secret ARN, where AWS's alternating-users secrets keep it (`masterarn`, JSON form only). */
export function masterArnOf(raw: string): string | undefined {
  if (!/^\s*\{/.test(raw)) return undefined;
  try {
    const masterarn = (JSON.parse(raw) as { masterarn?: unknown }).masterarn;
    return typeof masterarn === 'string' && masterarn !== '' && masterarn.length <= 2048 ? masterarn : undefined;
  } catch {
    return undefined;
  }
}

export const CLONE_SUFFIX = '_clone';
/** PostgreSQL truncates identifiers beyond 63 bytes; a clone name must stay distinct. */
const MAX_ROLE_BYTES = 63;

/** The other role of an alternating pair: `app` <-> `app_clone`. */
export function otherUserOf(user: string, secretId: string): string {
  if (user.endsWith(CLONE_SUFFIX) && user.length > CLONE_SUFFIX.length) return user.slice(0, -CLONE_SUFFIX.length);
  const clone = `${user}${CLONE_SUFFIX}`;
  if (Buffer.byteLength(clone, 'utf8') > MAX_ROLE_BYTES) {
    throw new RotationError('ROTATION_BAD_VALUE', `The user of ${secretId} is too long to have a ${CLONE_SUFFIX} role (PostgreSQL names are at most ${MAX_ROLE_BYTES} bytes)`);
  }
  return clone;
}

/** PostgreSQL 15's default SCRAM iteration count (scram_iterations). */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677; the format of
 * `pg_authid.rolpassword`), computed here as `psql \password` does, so that `ALTER ROLE ...
 * PASSWORD` carries the verifier and the password itself never reaches the server, its
 * statement log or pg_stat_activity. Our passwords are base64url, for which SASLprep changes nothing.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new RotationError('ROTATION_BAD_VALUE', 'Only printable ASCII passwords are hashed here');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
