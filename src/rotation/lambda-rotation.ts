import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError, type Catalog, type Logger } from '../engine/index.js';
import type { CredentialClients } from './credential-clients.js';
import { driverErrorCode } from './credential-clients.js';
import { RotationError } from './errors.js';
import { publishRefreshNotice } from './refresh-notice.js';
import { ROTATION_STEPS, type FinishMode, type RotationStep } from './rotation-module.js';
import { createSecret, finishSecret, setSecret, testSecret } from './rotation-steps.js';
import { ROTATION_TARGETS, type LambdaEnv, type RotationTarget } from './rotation-targets.js';
import { AWSCURRENT, AWSPENDING } from './version-stages.js';

/** What Secrets Manager sends a rotation function. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: RotationStep;
}

export interface LambdaRotationDeps {
  readonly client: SecretsManagerClient;
  readonly catalog: Catalog;
  readonly env: LambdaEnv;
  readonly logger: Logger;
  /**
   * PostgreSQL and Redis connections for the credential modules (built by the handler's
   * composition root). Without them, a credential rotation fails as misconfigured.
   */
  readonly clients?: CredentialClients;
  readonly now?: () => number;
  readonly targets?: readonly RotationTarget<unknown>[];
  /**
   * How finishSecret leaves the replaced value. Scheduled rotations are graceful: clients that
   * read the token before the rotation keep working for the engine's grace window.
   */
  readonly finishMode?: FinishMode;
}

const noClients = (): never => {
  throw new RotationError('ROTATION_MISCONFIGURED', 'This rotation function was built without database and Redis clients');
};
const NO_CLIENTS: CredentialClients = { sql: noClients, redis: noClients };

const TOKEN_PATTERN = /^[A-Za-z0-9-]{32,64}$/;

/** Checks an untrusted event's shape; errors name the field, never its content. */
export function parseRotationEvent(event: unknown): RotationEvent {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const { SecretId, ClientRequestToken, Step } = e;
  if (typeof SecretId !== 'string' || SecretId.length === 0 || SecretId.length > 2048) {
    throw new RotationError('ROTATION_BAD_EVENT', 'The event has no valid SecretId (a secret name or ARN, at most 2048 characters)');
  }
  if (typeof ClientRequestToken !== 'string' || !TOKEN_PATTERN.test(ClientRequestToken)) {
    throw new RotationError('ROTATION_BAD_EVENT', 'The event has no valid ClientRequestToken (32 to 64 letters, digits or dashes)');
  }
  if (typeof Step !== 'string' || !(ROTATION_STEPS as readonly string[]).includes(Step)) {
    throw new RotationError('ROTATION_BAD_EVENT', `The event's Step must be one of ${ROTATION_STEPS.join(', ')}`);
  }
  return { SecretId, ClientRequestToken, Step: Step as RotationStep };
}

/**
 * One step of a Secrets Manager rotation, as AWS's rotation function templates check it first:
 * rotation is enabled for the secret, the token is one of its versions, a version already
 * AWSCURRENT needs nothing more, and any other must carry AWSPENDING. The secret's name picks
 * the module through the catalog.
 */
export async function handleRotationEvent(event: unknown, deps: LambdaRotationDeps): Promise<void> {
  const { client, catalog, env, logger, clients = NO_CLIENTS, now = Date.now, targets = ROTATION_TARGETS, finishMode = 'graceful' } = deps;
  const { SecretId: secretId, ClientRequestToken: versionId, Step: step } = parseRotationEvent(event);
  const meta = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (meta.RotationEnabled !== true) throw new RotationError('ROTATION_NOT_ENABLED', `Rotation is not enabled for ${secretId}`);
  const stages = meta.VersionIdsToStages?.[versionId];
  if (stages === undefined) throw new RotationError('ROTATION_UNKNOWN_VERSION', `Version ${versionId} has no stage for rotation of ${secretId}`);
  if (stages.includes(AWSCURRENT)) {
    // An immediate finish stopped between its two moves: the label is completed, nothing else.
    if (step === 'finishSecret' && finishMode === 'immediate') await finishSecret({ client, secretId, versionId }, finishMode, { now });
    logger.info({ event: 'rotation.already_current', secretId, versionId, step }, 'Version already AWSCURRENT; nothing to do');
    return;
  }
  if (!stages.includes(AWSPENDING)) throw new RotationError('ROTATION_NOT_PENDING', `Version ${versionId} of ${secretId} is not labelled AWSPENDING`);

  const name = meta.Name === undefined ? undefined : catalog.nameForAwsId(meta.Name);
  const target = name === undefined ? undefined : targets.find((t) => t.module.secretName === name);
  if (target === undefined) throw new RotationError('ROTATION_UNKNOWN_SECRET', `No rotation module for ${meta.Name ?? secretId} in catalog ${catalog.prefix}`);

  const { deps: moduleDeps, close } = await target.lambdaDeps(env, client, clients);
  try {
    const ctx = { client, secretId, versionId, deps: moduleDeps };
    if (step === 'createSecret') await createSecret(target.module, ctx);
    else if (step === 'setSecret') await setSecret(target.module, ctx);
    else if (step === 'testSecret') await testSecret(target.module, ctx);
    else await finishSecret(ctx, finishMode, { now });
  } finally {
    await close();
  }
  logger.info({ event: 'rotation.step', secretId, name, versionId, step }, `${step} done`);
  if (step === 'finishSecret' && target.announce === true) await announce(deps, name!, versionId, now);
}

/**
 * The Redis push after a credential's finishSecret: instances switch within about a second
 * rather than at their next scheduled refresh (until then they keep working: the old database
 * role or Redis password stays valid, and a refused login makes them refresh). Best effort: the
 * rotation is committed, so a failure here is logged, never thrown (a retried finishSecret would
 * find the version current and do nothing).
 *
 * The function never removes the old Redis password itself: with no instance to ask whether it
 * has switched, it stays valid until the next rotation's setSecret drops it.
 */
async function announce(deps: LambdaRotationDeps, name: string, versionId: string, now: () => number): Promise<void> {
  const redisSecretId = deps.catalog.entry('REDIS_URL')?.awsId;
  if (redisSecretId === undefined) return;
  try {
    const receivers = await publishRefreshNotice({ client: deps.client, redisSecretId, redis: (deps.clients ?? NO_CLIENTS).redis, origin: 'rotation-function', reason: `rotated ${name}`, catalog: deps.catalog, name, versionId, now });
    deps.logger.info({ event: 'rotation.refresh_notice_published', name, versionId, receivers }, 'Published a refresh notice on Redis');
  } catch (err) {
    const code = err instanceof RotationError ? err.code : err instanceof Error && '$metadata' in err ? classifyAwsError(err).code : driverErrorCode(err);
    deps.logger.warn({ event: 'rotation.refresh_notice_failed', name, versionId, code }, 'Could not publish a refresh notice; instances switch at their next refresh');
  }
}
