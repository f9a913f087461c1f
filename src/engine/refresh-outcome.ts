import type { SecretFailure } from './source.js';

/** Why an attempt ran: a label for logs and metrics (`secrets_refreshes_total{reason}`). */
export type RefreshReason =
  | 'startup'
  | 'scheduled'
  | 'expired-read'
  | 'retry'
  | 'forced'
  | 'notice'
  | 'auth-failure';

export interface ChangedSecret {
  readonly name: string;
  readonly versionId?: string;
  readonly previousVersionId?: string;
}

/**
 * How one refresh attempt went; every attempt ends in exactly one, passed to `onRefresh`
 * listeners and to the callers of `refresh()` it served. `names` is there when the attempt read
 * only those secrets. Never a value.
 */
export type RefreshOutcome =
  | {
      readonly ok: true;
      readonly reason: RefreshReason;
      readonly names?: readonly string[];
      readonly changed: readonly ChangedSecret[];
      readonly failed: readonly SecretFailure[];
      /** The region that answered (AWS mode). */
      readonly region?: string;
      /** Answered by a replica region because the primary failed: the primary is tried again soon. */
      readonly servedByReplica?: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: RefreshReason;
      readonly names?: readonly string[];
      readonly code: string;
      readonly transient: boolean;
    };
