import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Catalog } from '../engine/index.js';
import { adminTokenRotation } from './admin-token.js';
import type { CredentialClients } from './credential-clients.js';
import { DATABASE_STRATEGIES, databasePasswordRotation, type DatabaseStrategy } from './database-password.js';
import { RotationError } from './errors.js';
import { metaVerifyTokenRotation } from './meta-verify-token.js';
import { redisPasswordRotation } from './redis-password.js';
import type { RotationModule } from './rotation-module.js';

/** The environment a Lambda runs with (its configuration), read only by the handler's composition root. */
export type LambdaEnv = Readonly<Record<string, string | undefined>>;

/** A module's dependencies for one Lambda invocation, and how to release them (close a connection). */
export interface LambdaDeps<D> {
  readonly deps: D;
  close(): Promise<void>;
}

/** A kind of secret that can be rotated: its module, its schedule default, and its Lambda wiring. */
export interface RotationTarget<D> {
  readonly module: RotationModule<D>;
  /**
   * Days between Secrets Manager's scheduled rotations when the catalog's `rotation.everyDays`
   * gives none (database and Redis passwords: 30). Neither: rotated by hand only.
   */
  readonly defaultScheduleDays?: number;
  /**
   * After finishSecret, publish a refresh notice on Redis so instances switch within about a
   * second: credentials, whose old value is not accepted alongside the new one by the engine.
   */
  readonly announce?: boolean;
  /** Builds what the module needs inside the Lambda, from the function's environment. */
  lambdaDeps(env: LambdaEnv, client: SecretsManagerClient, clients: CredentialClients): Promise<LambdaDeps<D>>;
}

const nothingToClose = async () => {};

/** Days between scheduled rotations of the database and Redis passwords unless the catalog says otherwise. */
export const CREDENTIAL_SCHEDULE_DAYS = 30;

/** The function's DATABASE_ROTATION_STRATEGY: single-user unless set. */
export function databaseStrategyOf(env: LambdaEnv): DatabaseStrategy {
  const value = env.DATABASE_ROTATION_STRATEGY?.trim() || 'single-user';
  if (!(DATABASE_STRATEGIES as readonly string[]).includes(value)) {
    throw new RotationError('ROTATION_MISCONFIGURED', `DATABASE_ROTATION_STRATEGY must be ${DATABASE_STRATEGIES.join(' or ')}`);
  }
  return value as DatabaseStrategy;
}

const optional = (value: string | undefined) => (value?.trim() ? { masterSecretId: value.trim() } : {});

/** Every rotatable kind. Credential modules open their connections per step; nothing stays open. */
export const ROTATION_TARGETS: readonly RotationTarget<unknown>[] = [
  { module: adminTokenRotation, lambdaDeps: async () => ({ deps: {}, close: nothingToClose }) },
  { module: metaVerifyTokenRotation, lambdaDeps: async () => ({ deps: {}, close: nothingToClose }) },
  {
    module: databasePasswordRotation,
    defaultScheduleDays: CREDENTIAL_SCHEDULE_DAYS,
    announce: true,
    lambdaDeps: async (env, _client, { sql }) => ({
      deps: { strategy: databaseStrategyOf(env), sql, ...optional(env.DATABASE_MASTER_SECRET_ID) },
      close: nothingToClose,
    }),
  },
  {
    module: redisPasswordRotation,
    defaultScheduleDays: CREDENTIAL_SCHEDULE_DAYS,
    announce: true,
    lambdaDeps: async (env, _client, { redis }) => ({ deps: { redis, ...optional(env.REDIS_MASTER_SECRET_ID) }, close: nothingToClose }),
  },
];

/** Days between scheduled rotations: the catalog's period, else the kind's default; undefined for hand-rotated secrets. */
export function scheduleDaysOf(target: RotationTarget<unknown>, catalog: Catalog): number | undefined {
  return catalog.entry(target.module.secretName)?.spec.rotation?.everyDays ?? target.defaultScheduleDays;
}
