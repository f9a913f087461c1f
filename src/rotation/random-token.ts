import { randomBytes } from 'node:crypto';

/** Random bytes in a generated token: 48 give a 64-character token. */
export const TOKEN_BYTES = 48;

/**
 * A token from `bytes` random bytes, base64url without padding: it survives query strings
 * (Meta's `hub.verify_token`) and headers unchanged, where base64's `+` arrives as a space.
 */
export function newUrlSafeToken(bytes: number = TOKEN_BYTES): string {
  return randomBytes(bytes).toString('base64url');
}

/** Whether a value has the shape newUrlSafeToken(bytes) gives. */
export function isUrlSafeToken(value: string, bytes: number = TOKEN_BYTES): boolean {
  return value.length === Math.ceil((bytes * 4) / 3) && /^[A-Za-z0-9_-]+$/.test(value);
}
