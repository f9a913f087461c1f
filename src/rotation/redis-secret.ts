import { createHash } from 'node:crypto';
import { RotationError } from './errors.js';

/** A REDIS_URL read for a rotation: `redis[s]://[user]:password@host[:port][/db]`. */
export interface RedisSecret {
  /** The ACL user; `default` when the URL names none (`redis://:password@host`). */
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: string;
}

/** Errors name the secret and what is wrong, never the value. */
export function readRedisSecret(raw: string, secretId: string): RedisSecret {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RotationError('ROTATION_BAD_VALUE', `${secretId} is not a valid redis URL`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RotationError('ROTATION_BAD_VALUE', `${secretId} must use redis: or rediss:`);
  if (url.password === '') {
    throw new RotationError('ROTATION_BAD_VALUE', `${secretId} has no password to rotate (expected redis://user:password@host:port/db, an ACL user)`);
  }
  try {
    return { user: decodeURIComponent(url.username) || 'default', password: decodeURIComponent(url.password), host: url.hostname, port: url.port || '6379' };
  } catch {
    throw new RotationError('ROTATION_BAD_VALUE', `${secretId} has a malformed percent-encoding`);
  }
}

/** The same URL with another password (and user, for an admin login at the same server). */
export function withRedisCredentials(raw: string, password: string, user?: string): string {
  const url = new URL(raw);
  if (user !== undefined) url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** How Redis keeps an ACL password (`ACL GETUSER`'s `passwords`): its SHA-256, hex. */
export function aclPasswordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/** The password hashes of an `ACL GETUSER` reply (a flat field/value list); undefined for no such user. */
export function passwordHashesOf(reply: unknown): string[] | undefined {
  if (!Array.isArray(reply)) return undefined;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    if (String(reply[i]) === 'passwords') {
      const list = reply[i + 1] as unknown;
      return Array.isArray(list) ? list.map(String) : [];
    }
  }
  return [];
}
