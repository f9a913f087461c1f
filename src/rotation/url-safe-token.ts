/** Random bytes in a generated token: 48 give a 64-character token (see provisioning/generate-token.ts). */
export const TOKEN_BYTES = 48;

/** Whether a value has the shape generateToken(bytes) gives: base64url without padding. */
export function isUrlSafeToken(value: string, bytes: number = TOKEN_BYTES): boolean {
  return value.length === Math.ceil((bytes * 4) / 3) && /^[A-Za-z0-9_-]+$/.test(value);
}
