import { generateToken } from '../provisioning/generate-token.js';

/** Random bytes of a generated database or Redis password: 32 give 43 base64url characters. */
export const PASSWORD_BYTES = 32;

/** A new password: base64url, so a URL carries it unencoded and SCRAM's SASLprep leaves it as it is. */
export function newPassword(): string {
  return generateToken(PASSWORD_BYTES);
}
