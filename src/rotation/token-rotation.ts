import { RotationError } from './errors.js';
import { generateToken } from '../provisioning/generate-token.js';
import { isUrlSafeToken, TOKEN_BYTES } from './url-safe-token.js';
import type { RotationModule } from './rotation-module.js';
import { checkServiceServes, type ServiceProbe } from './service-probe.js';

export interface TokenDeps {
  /** A running service to test against (`--url`); absent in the Lambda. */
  readonly service?: ServiceProbe;
}

/**
 * The rotation of a random token our own service checks (admin token, Meta verify token). The
 * resource is the service itself, which reads AWSCURRENT, so setSecret has nothing to do;
 * testSecret checks the pending value's shape and, given a service, that it reads this secret.
 */
export function tokenRotation(options: { readonly kind: string; readonly secretName: string; readonly bytes?: number }): RotationModule<TokenDeps> {
  const { kind, secretName, bytes = TOKEN_BYTES } = options;
  return {
    kind,
    secretName,
    handover: true,
    newValue: async () => generateToken(bytes),
    setSecret: async () => {},
    testSecret: async ({ secretId, pending, current, deps }) => {
      if (!isUrlSafeToken(pending.value, bytes)) {
        throw new RotationError('ROTATION_TEST_FAILED', `Version ${pending.versionId} of ${secretId} is not a URL-safe token of ${Math.ceil((bytes * 4) / 3)} characters`);
      }
      if (deps.service !== undefined) await checkServiceServes(deps.service, secretName, current.versionId);
    },
  };
}
