import type { CatalogEntry } from './catalog.js';

/** One secret's current value as a source found it. */
export interface SecretRecord {
  readonly name: string;
  readonly raw: string;
  readonly versionId?: string;
  /** When this version was created (AWS CreatedDate); the grace window for the previous one starts here. */
  readonly createdAtMs?: number;
  readonly stages?: readonly string[];
  /** The previous value, where the source has it at no extra cost (env mode's `<NAME>_PREVIOUS`). */
  readonly previous?: { readonly raw: string; readonly versionId?: string };
}

/** One secret a source could not read, by name and error code (never a message, which may quote input). */
export interface SecretFailure {
  readonly name: string;
  readonly code: string;
  readonly transient: boolean;
  /** For InvalidValue: what the validator expected, never the value. */
  readonly reason?: string;
}

export interface LoadResult {
  readonly records: readonly SecretRecord[];
  readonly failures: readonly SecretFailure[];
  /** The region that answered (AWS mode). */
  readonly region?: string;
}

/**
 * Where values come from. `load` may resolve with per-secret failures; it rejects (with a
 * SourceError) only when nothing could be read at all. It must honour `signal`.
 */
export interface SecretSource {
  readonly kind: 'env' | 'aws';
  /** For status and logs: "AWS Secrets Manager", "environment". */
  readonly description: string;
  /** The primary region (AWS mode). */
  readonly region?: string;
  /** Every region read, the primary first, then the replicas in order of preference (AWS mode). */
  readonly regions?: readonly string[];
  load(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult>;
  /**
   * A few secrets by name, one call each (AWS: GetSecretValue), for `refresh({ names })`: a push
   * notice or an auth failure on every instance must not spend BatchGetSecretValue's quota of
   * 100 calls a second per region. Sources without it use `load`.
   */
  loadIndividually?(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult>;
  /**
   * The version before the current one (AWSPREVIOUS), for secrets that accept it during a rotation.
   * `fromRegion`: the region that answered the same attempt's current values, where this read starts
   * (a primary that just failed is not waited on twice in one attempt).
   */
  loadPrevious?(entries: readonly CatalogEntry[], signal: AbortSignal, fromRegion?: string): Promise<LoadResult>;
}

/** AWS's staging labels of the current and the previous version. */
export const CURRENT_STAGE = 'AWSCURRENT';
export const PREVIOUS_STAGE = 'AWSPREVIOUS';

/** The version stage the operator CLI adds on an immediate rotation: the previous version is refused at once. */
export const IMMEDIATE_ROTATION_STAGE = 'ROTATION_IMMEDIATE';

/**
 * The label a rotation's finish step puts on a version right before it moves AWSCURRENT there:
 * `SWITCHED_AT_<epoch ms>`. Every instance reads the same labels with the value (GetSecretValue
 * and BatchGetSecretValue return them), so the previous value's grace window starts at the switch
 * on every instance, with no clock of its own, however late the rotation was resumed or retried.
 */
export const SWITCH_STAGE_PREFIX = 'SWITCHED_AT_';

export function switchStage(atMs: number): string {
  return `${SWITCH_STAGE_PREFIX}${Math.trunc(atMs)}`;
}

/** The switch time a version's labels carry (the latest, if a resumed finish left two), or undefined. */
export function switchedAtMs(stages: readonly string[] | undefined): number | undefined {
  let latest: number | undefined;
  for (const stage of stages ?? []) {
    if (!stage.startsWith(SWITCH_STAGE_PREFIX)) continue;
    const digits = stage.slice(SWITCH_STAGE_PREFIX.length);
    if (!/^\d{1,15}$/.test(digits)) continue;
    const at = Number(digits);
    if (latest === undefined || at > latest) latest = at;
  }
  return latest;
}
