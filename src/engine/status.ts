import type { Catalog } from './catalog.js';
import type { RefreshState } from './refresh-machine.js';
import type { RefreshReason } from './refresh-outcome.js';
import { previousAccepted } from './rotation-grace.js';
import type { Cell, Snapshot } from './snapshot.js';
import type { SecretSource } from './source.js';

/** Everything the health endpoints and the CLI show about the engine. Never a value. */
export interface SecretStatus {
  readonly loaded: boolean;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly usingDefault: boolean;
  readonly versionId: string | null;
  readonly lastChanged: string | null;
  /** When the value held was last read from the store, by any refresh (a named one included). */
  readonly lastRead: string | null;
  readonly lastErrorCode: string | null;
  readonly previousAccepted: boolean;
  readonly reads: number;
}

export interface EngineStatus {
  readonly initialized: boolean;
  readonly source: 'env' | 'aws';
  readonly sourceDescription: string;
  /** The region that served the current values (the primary before any load); null in env mode. */
  readonly region: string | null;
  /** When `region` began serving; null before the first load. */
  readonly regionSince: string | null;
  /** The primary region (AWS_REGION); null in env mode. */
  readonly primaryRegion: string | null;
  /** Every region read, the primary first (empty in env mode). */
  readonly regions: readonly string[];
  /** Why the engine serves in a degraded way apart from errors: a replica region serving. */
  readonly degraded: { readonly code: 'SERVED_BY_REPLICA'; readonly region: string } | null;
  readonly secretsLoaded: number;
  readonly totalSecrets: number;
  readonly requiredSecretsOk: boolean;
  readonly cacheAgeMs: number | null;
  readonly cacheExpired: boolean;
  readonly ttlMs: number;
  /** The last load of the whole catalog. */
  readonly lastRefresh: string | null;
  /** The last successful refresh of any kind: the whole catalog (`full`) or named secrets (`names`), and why. */
  readonly lastAnyRefresh: LastAnyRefresh | null;
  readonly lastAttempt: string | null;
  readonly nextRefresh: string | null;
  readonly lastErrorCode: string | null;
  readonly consecutiveFailures: number;
  readonly refreshing: boolean;
  readonly secrets: Readonly<Record<string, SecretStatus>>;
}

export interface LastAnyRefresh {
  readonly at: string;
  readonly kind: 'full' | 'names';
  readonly reason: RefreshReason;
}

/** What `engineStatus` reads; all of it is the engine's own state at one instant. */
export interface StatusInput {
  readonly catalog: Catalog;
  readonly snapshot: Snapshot;
  readonly cells: ReadonlyMap<string, Cell>;
  readonly refresh: RefreshState;
  readonly initialized: boolean;
  readonly source: SecretSource;
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly nowMs: number;
  readonly lastAttemptMs: number | undefined;
  readonly lastAnyRefresh?: { readonly atMs: number; readonly kind: 'full' | 'names'; readonly reason: RefreshReason } | undefined;
  /** The code of the last attempt on the whole catalog, if it failed whole. */
  readonly lastFailureCode: string | undefined;
  /** The region whose answer the current values came from, and since when. */
  readonly served?: { readonly region: string; readonly sinceMs: number } | undefined;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The engine's status. Its `lastErrorCode` says why it is degraded: the last whole failure, or
 * else the first secret that could not be read (a deleted secret served from memory included).
 */
export function engineStatus(input: StatusInput): EngineStatus {
  const { catalog, snapshot, cells, refresh, nowMs } = input;
  const secrets: Record<string, SecretStatus> = {};
  let requiredOk = true;
  let loaded = 0;
  let firstSecretError: string | undefined;
  for (const entry of catalog.entries) {
    const slot = snapshot.slots.get(entry.name);
    if (slot?.value !== undefined) loaded++;
    if (entry.spec.required && slot?.raw === undefined) requiredOk = false;
    firstSecretError ??= slot?.errorCode;
    secrets[entry.name] = {
      loaded: slot?.value !== undefined,
      required: entry.spec.required,
      hasDefault: entry.spec.default !== undefined,
      usingDefault: slot?.fromDefault ?? false,
      versionId: slot?.versionId ?? null,
      lastChanged: slot?.raw !== undefined ? iso(slot.sinceMs) : null,
      lastRead: slot?.raw !== undefined ? iso(slot.readAtMs) : null,
      lastErrorCode: slot?.errorCode ?? null,
      previousAccepted: slot !== undefined && previousAccepted(entry, slot, input.graceMs, nowMs),
      reads: cells.get(entry.name)?.reads ?? 0,
    };
  }
  const lastSuccessMs = snapshot.loadedAtMs === 0 ? undefined : snapshot.loadedAtMs;
  const cacheAgeMs = lastSuccessMs === undefined ? null : nowMs - lastSuccessMs;
  return {
    initialized: input.initialized,
    source: input.source.kind,
    sourceDescription: input.source.description,
    region: input.served?.region ?? input.source.region ?? null,
    regionSince: iso(input.served?.sinceMs),
    primaryRegion: input.source.region ?? null,
    regions: input.source.regions ?? (input.source.region === undefined ? [] : [input.source.region]),
    degraded:
      input.served !== undefined && input.source.region !== undefined && input.served.region !== input.source.region
        ? { code: 'SERVED_BY_REPLICA', region: input.served.region }
        : null,
    secretsLoaded: loaded,
    totalSecrets: catalog.entries.length,
    requiredSecretsOk: input.initialized && requiredOk,
    cacheAgeMs,
    cacheExpired: cacheAgeMs === null || cacheAgeMs >= input.ttlMs,
    ttlMs: input.ttlMs,
    lastRefresh: iso(lastSuccessMs),
    lastAnyRefresh: input.lastAnyRefresh === undefined ? null : { at: iso(input.lastAnyRefresh.atMs)!, kind: input.lastAnyRefresh.kind, reason: input.lastAnyRefresh.reason },
    lastAttempt: iso(input.lastAttemptMs),
    nextRefresh: iso(refresh.kind === 'fresh' || refresh.kind === 'backingOff' ? refresh.dueAtMs : undefined),
    lastErrorCode: input.lastFailureCode ?? firstSecretError ?? null,
    consecutiveFailures: refresh.failures,
    refreshing: refresh.kind === 'refreshing',
    secrets,
  };
}
