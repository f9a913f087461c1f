import type { AwsOptions } from './deps.js';

/** What the local endpoint is handed when nothing is configured: it accepts any credentials. */
export const LOCAL_ENDPOINT_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A loopback endpoint (127.0.0.0/8, ::1, localhost): the local Secrets Manager, never AWS. */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Settings that mean the operator configured credentials of their own: the SDK's chain finds them. */
const CONFIGURED = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];

/**
 * Static placeholder credentials for a loopback endpoint when none are configured, so
 * `secrets status --endpoint-url http://127.0.0.1:4566` works on a fresh machine; undefined
 * (the SDK's own chain) otherwise. Never walks the chain for the local endpoint, since its last
 * step asks the EC2 metadata address, which is not on this machine.
 */
export function localEndpointCredentials(options: AwsOptions, env: Readonly<Record<string, string | undefined>>) {
  if (!isLoopbackEndpoint(options.endpoint) || options.profile !== undefined) return undefined;
  return CONFIGURED.some((name) => (env[name] ?? '') !== '') ? undefined : LOCAL_ENDPOINT_CREDENTIALS;
}
