import { MissingSecretsError, SourceError } from '../engine/index.js';

export interface StartupContext {
  readonly useAwsSecrets: boolean;
  /** AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL, when set. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly envFile: string;
  /** The catalog's AWS prefix, e.g. whatsapp-saas/mvp. */
  readonly prefix: string;
}

/** Codes that mean the secret store could not be reached at all (as opposed to a refusal). */
const UNREACHABLE = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_.*|TimeoutError|RequestTimeout|AttemptTimeout)$/;

/**
 * The one line a person reads when the secrets cannot be loaded at start-up: what failed, where
 * (endpoint and region, as the CLI says them), and what to check. Never a value.
 */
export function secretsStartupFailure(err: MissingSecretsError | SourceError, ctx: StartupContext): string {
  if (err instanceof MissingSecretsError) {
    return `${err.message}. Set them in ${ctx.useAwsSecrets ? `AWS Secrets Manager (${ctx.prefix}/..., region ${ctx.region})` : ctx.envFile}.`;
  }
  const where = `Secrets Manager at ${ctx.endpoint ?? `the AWS endpoint of ${ctx.region}`}, region ${ctx.region}`;
  if (UNREACHABLE.test(err.sourceCode)) {
    return `Secrets initialization failed: cannot reach ${where} (${err.sourceCode}); check AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION and the network.`;
  }
  if (err.sourceCode === 'CredentialsProviderError') {
    return `Secrets initialization failed: no AWS credentials for ${where}; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on a role.`;
  }
  return `Secrets initialization failed: ${where} answered ${err.sourceCode}.`;
}

/** The line for a listen failure, with what to change (the settings are named by `settings`: METRICS_HOST/METRICS_PORT for the metrics listener). */
export function listenFailure(code: string, host: string, port: number, settings: { readonly host: string; readonly port: string } = { host: 'HOST', port: 'PORT' }): string {
  const hint: Readonly<Record<string, string>> = {
    EADDRINUSE: `port ${port} is in use: stop what runs there, or set ${settings.port} to a free port (e.g. ${settings.port}=${port === 65_535 ? 3001 : port + 1})`,
    EACCES: `port ${port} needs privileges: set ${settings.port} to 1024 or above`,
    EADDRNOTAVAIL: `${host} is not an address of this machine: set ${settings.host} (127.0.0.1 locally, 0.0.0.0 in a container)`,
  };
  return `Cannot listen on ${host}:${port}: ${code}${hint[code] !== undefined ? ` (${hint[code]})` : ''}`;
}
