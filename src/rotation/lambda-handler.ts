/**
 * The rotation function AWS Secrets Manager calls on its schedule (runtime `nodejs24.x`, handler
 * `index.handler` in the bundle `npm run build` writes to dist/rotation-lambda/). The composition
 * root of the Lambda: the only place here that reads process.env and builds the client.
 *
 * Environment: AWS_REGION (set by Lambda), SECRETS_PROJECT / SECRETS_ENVIRONMENT (the catalog's
 * prefix, default whatsapp-saas/mvp), SECRETS_MANAGER_ENDPOINT (optional, as AWS's templates).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { whatsappSaasCatalog } from '../catalog/whatsapp-saas.js';
import { classifyAwsError, createSecretsManagerClient, type Logger } from '../engine/index.js';
import { RotationError } from './errors.js';
import { handleRotationEvent } from './lambda-rotation.js';

/** JSON lines on stdout, which Lambda sends to CloudWatch Logs. Names, ids and codes only. */
const logger: Logger = {
  debug: () => {},
  info: (obj, msg) => console.info(JSON.stringify({ level: 'info', ...obj, msg })),
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', ...obj, msg })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', ...obj, msg })),
};

let client: SecretsManagerClient | undefined;

export const handler = async (event: unknown): Promise<void> => {
  const env = process.env;
  try {
    client ??= createSecretsManagerClient({
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(env.SECRETS_MANAGER_ENDPOINT !== undefined && { endpoint: env.SECRETS_MANAGER_ENDPOINT }),
      requestTimeoutMs: 10_000,
    });
    const catalog = whatsappSaasCatalog({ project: env.SECRETS_PROJECT ?? 'whatsapp-saas', environment: env.SECRETS_ENVIRONMENT ?? 'mvp' });
    await handleRotationEvent(event, { client, catalog, env, logger });
  } catch (err) {
    // A RotationError's message is built from names and ids; an AWS error is named by its code only.
    const code = err instanceof RotationError ? err.code : classifyAwsError(err).code;
    logger.error({ event: 'rotation.failed', code }, err instanceof RotationError ? err.message : 'Rotation step failed');
    throw err;
  }
};
