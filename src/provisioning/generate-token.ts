import { randomBytes } from 'node:crypto';

/**
 * A fresh random token from `bytes` random bytes, base64url without padding: no `+`, `/` or `=`,
 * so it survives a query string (`hub.verify_token=...`), a header and a shell unencoded. 48
 * bytes give 64 characters, the same randomness as `openssl rand -base64 48`.
 */
export function generateToken(bytes: number, random: (size: number) => Buffer = randomBytes): string {
  return random(bytes).toString('base64url');
}
