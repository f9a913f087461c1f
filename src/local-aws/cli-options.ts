import { parseArgs } from 'node:util';
import type { LocalSecretsManagerOptions } from './local-secrets-manager.js';
import { checkLoopbackUrl } from './rotation-functions.js';

export const USAGE = `Usage: npm run local-aws -- [--port N] [--host 127.0.0.1] [--region us-east-1] [--rotation-function ARN=URL ...]

Starts a local AWS Secrets Manager endpoint (tests, benchmarks, one-machine demo; never
production). Point the SDK or CLI at it with AWS_ENDPOINT_URL_SECRETS_MANAGER=<url> or
--endpoint-url <url>, with any credentials (e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test).

  --port N      port to listen on (default 4566; 0 picks a free one)
  --host H      loopback address to listen on (default 127.0.0.1)
  --region R    default region: requests without a SigV4 region, scheduled rotations (default us-east-1)
  --rotation-function ARN=URL
                a rotation function RotateSecret can call: each step's event
                {SecretId, ClientRequestToken, Step} is POSTed as JSON to URL (loopback
                only), e.g. a Lambda emulator's .../2015-03-31/functions/function/invocations;
                repeat for more functions
  --help        show this text`;

export const DEFAULT_PORT = 4566;

export type CliOptionsResult =
  | { readonly kind: 'start'; readonly options: LocalSecretsManagerOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage-error'; readonly message: string };

export function parseCliOptions(argv: readonly string[]): CliOptionsResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        region: { type: 'string' },
        'rotation-function': { type: 'string', multiple: true },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return { kind: 'usage-error', message: error instanceof Error ? error.message : 'invalid arguments' };
  }
  const { values } = parsed;
  if (values.help) return { kind: 'help' };
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    return { kind: 'usage-error', message: '--port must be an integer from 0 to 65535' };
  }
  const rotationFunctions: Record<string, { url: string }> = {};
  for (const spec of values['rotation-function'] ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) return { kind: 'usage-error', message: '--rotation-function takes ARN=URL' };
    const url = spec.slice(eq + 1);
    try {
      checkLoopbackUrl(url);
    } catch (error) {
      return { kind: 'usage-error', message: `--rotation-function: ${(error as Error).message}` };
    }
    rotationFunctions[spec.slice(0, eq)] = { url };
  }
  return {
    kind: 'start',
    options: {
      port,
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values.region === undefined ? {} : { region: values.region }),
      ...(Object.keys(rotationFunctions).length === 0 ? {} : { rotationFunctions }),
    },
  };
}
