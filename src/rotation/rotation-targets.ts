import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Catalog } from '../engine/index.js';
import { adminTokenRotation } from './admin-token.js';
import { metaVerifyTokenRotation } from './meta-verify-token.js';
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
  /** Builds what the module needs inside the Lambda, from the function's environment. */
  lambdaDeps(env: LambdaEnv, client: SecretsManagerClient): Promise<LambdaDeps<D>>;
}

const nothingToClose = async () => {};

/**
 * Every rotatable kind. The database and Redis password modules join here with the same
 * interface (their Lambda deps open a PostgreSQL or Redis connection from the master secret).
 */
export const ROTATION_TARGETS: readonly RotationTarget<unknown>[] = [
  { module: adminTokenRotation, lambdaDeps: async () => ({ deps: {}, close: nothingToClose }) },
  { module: metaVerifyTokenRotation, lambdaDeps: async () => ({ deps: {}, close: nothingToClose }) },
];

/** Days between scheduled rotations: the catalog's period, else the kind's default; undefined for hand-rotated secrets. */
export function scheduleDaysOf(target: RotationTarget<unknown>, catalog: Catalog): number | undefined {
  return catalog.entry(target.module.secretName)?.spec.rotation?.everyDays ?? target.defaultScheduleDays;
}
