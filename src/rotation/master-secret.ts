import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { driverErrorCode } from './credential-clients.js';
import { RotationError, type RotationErrorCode } from './errors.js';
import { AWSCURRENT } from './version-stages.js';
import { readValue } from './version-value.js';

/** The login a master secret holds: only its user and password are ever used (at the rotated secret's own server). */
export interface MasterLogin {
  readonly user: string;
  readonly password: string;
}

/**
 * A master secret's AWSCURRENT login, for the database and the Redis rotations alike: JSON with
 * `username` and `password` (what RDS and most tools write), else a URL read by the kind's own
 * parser (`urlLogin`). Errors name the secret and what is missing, never a value.
 */
export async function readMasterLogin(
  client: SecretsManagerClient,
  id: string,
  urlLogin: (raw: string, id: string) => { readonly user: string; readonly password: string | undefined },
): Promise<MasterLogin> {
  const value = await readValue(client, id, { stage: AWSCURRENT });
  if (value === undefined) throw new RotationError('ROTATION_MISCONFIGURED', `The master secret ${id} has no AWSCURRENT value`);
  let user: unknown;
  let password: unknown;
  if (/^\s*\{/.test(value.value)) {
    try {
      ({ username: user, password } = JSON.parse(value.value) as { username?: unknown; password?: unknown });
    } catch {
      throw new RotationError('ROTATION_BAD_VALUE', `The master secret ${id} is not valid JSON`);
    }
  } else {
    ({ user, password } = urlLogin(value.value, id));
  }
  if (typeof user !== 'string' || user === '' || typeof password !== 'string' || password === '') {
    throw new RotationError('ROTATION_BAD_VALUE', `The master secret ${id} needs a user and a password`);
  }
  return { user, password };
}

/**
 * Runs `work` logged in with privileges (the database's master role, a Redis user allowed ACL
 * SETUSER): a failure that is not already a RotationError becomes `code`, saying what was done
 * and, from the driver's code alone, why (never the driver's message, which may quote a value).
 */
export async function asPrivileged(work: () => Promise<unknown>, failure: { readonly code: RotationErrorCode; readonly what: string; why(driverCode: string): string }): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof RotationError) throw err;
    const code = driverErrorCode(err);
    throw new RotationError(failure.code, `${failure.what}: ${failure.why(code)} (${code})`, { cause: err });
  }
}
