import { whatsappSaasSpec } from '../catalog/whatsapp-saas.js';
import type { EngineStatus, LastAnyRefresh, SecretSpec } from '../engine/index.js';
import { rotationDue, type RotationView } from '../engine/index.js';

export type SecretsHealth = 'healthy' | 'degraded' | 'unhealthy';

/** `services.secrets` of GET /healthz: the seed's Monitoring section, field for field. */
export interface SecretsHealthView {
  readonly status: SecretsHealth;
  readonly initialized: boolean;
  readonly source: 'aws' | 'env';
  readonly secretsLoaded: number;
  readonly requiredSecretsOk: boolean;
  /** Milliseconds since the last successful load; null before the first. */
  readonly cacheAge: number | null;
  readonly cacheExpired: boolean;
  readonly lastRefresh: string | null;
  /** Secrets whose value is a generated placeholder (healthy locally, but visible): names only. */
  readonly placeholders: readonly string[];
  /** The region that served the current values (AWS mode), and since when. */
  readonly region: string | null;
  readonly regionSince: string | null;
  /** Set while a replica region serves: `{ code: 'SERVED_BY_REPLICA', region }`. */
  readonly degraded: EngineStatus['degraded'];
}

export interface SecretEntryView {
  readonly loaded: boolean;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly usingDefault: boolean;
  readonly versionId: string | null;
  /**
   * When this secret was last read from the store by any refresh (scheduled, named, a notice);
   * null while its reads fail (the cached value is kept) or for a default.
   */
  readonly lastRefresh: string | null;
  /** When the value last changed (its version's creation in AWS mode). */
  readonly lastChanged: string | null;
  readonly lastErrorCode: string | null;
  /** The previous version is still accepted (rotation grace window). */
  readonly previousAccepted: boolean;
  /** Where the value in use came from: the store (`aws` or `env`), the catalog's `default`; null when not loaded. */
  readonly source: 'aws' | 'env' | 'default' | null;
  /** Rotation due or overdue against the catalog's schedule. */
  readonly rotation: RotationView;
  /** The value in use is a generated placeholder (e.g. META_APP_SECRET of a fresh .env). */
  readonly placeholder: boolean;
}

/** GET /admin/secrets/health: the seed's shape plus per-secret version, refresh time and error code. */
export interface SecretsAdminView {
  readonly status: SecretsHealth;
  readonly source: 'AWS Secrets Manager' | 'Environment variables';
  /** The region that served the current values (AWS mode), and since when. */
  readonly region: string | null;
  readonly regionSince: string | null;
  readonly primaryRegion: string | null;
  /** Set while a replica region serves: `{ code: 'SERVED_BY_REPLICA', region }`. */
  readonly degraded: EngineStatus['degraded'];
  readonly totalSecrets: number;
  readonly secretsLoaded: number;
  readonly requiredSecretsOk: boolean;
  readonly cacheAge: number | null;
  readonly cacheExpired: boolean;
  /** The last load of the whole catalog. */
  readonly lastRefresh: string | null;
  /** The last successful refresh of any kind (`full` or `names`) and why (`scheduled`, `notice`, `forced`, ...). */
  readonly lastAnyRefresh: LastAnyRefresh | null;
  readonly nextRefresh: string | null;
  readonly lastErrorCode: string | null;
  readonly consecutiveFailures: number;
  readonly placeholders: readonly string[];
  readonly secrets: Readonly<Record<string, SecretEntryView>>;
}

/**
 * unhealthy: not initialized or a required secret missing. degraded: the last refresh failed, or
 * could not read some secret, so cached values are being served (including the seed's case of a
 * cache past its TTL after failed refreshes), or a replica region serves them. healthy otherwise.
 */
export function secretsHealth(s: EngineStatus): SecretsHealth {
  if (!s.initialized || !s.requiredSecretsOk) return 'unhealthy';
  if (s.consecutiveFailures > 0 || s.lastErrorCode !== null || s.degraded !== null) return 'degraded';
  return 'healthy';
}

export function secretsHealthView(s: EngineStatus, placeholders: readonly string[] = []): SecretsHealthView {
  return {
    status: secretsHealth(s),
    initialized: s.initialized,
    source: s.source,
    secretsLoaded: s.secretsLoaded,
    requiredSecretsOk: s.requiredSecretsOk,
    cacheAge: s.cacheAgeMs,
    cacheExpired: s.cacheExpired,
    lastRefresh: s.lastRefresh,
    placeholders: [...placeholders],
    region: s.region,
    regionSince: s.regionSince,
    degraded: s.degraded,
  };
}

export interface AdminViewOptions {
  /** Now, for rotation due dates. */
  readonly nowMs: number;
  /** Each secret's rotation schedule (the service's catalog by default). */
  readonly schedules?: Readonly<Record<string, Pick<SecretSpec, 'rotation'>>>;
  /** Names whose value is a generated placeholder (see placeholderSecrets). */
  readonly placeholders?: readonly string[];
}

export function secretsAdminView(s: EngineStatus, options: AdminViewOptions): SecretsAdminView {
  const { nowMs, schedules = whatsappSaasSpec as Readonly<Record<string, Pick<SecretSpec, 'rotation'>>>, placeholders = [] } = options;
  const secrets: Record<string, SecretEntryView> = {};
  for (const [name, e] of Object.entries(s.secrets)) {
    const confirmed = e.loaded && !e.usingDefault && e.lastErrorCode === null;
    secrets[name] = {
      loaded: e.loaded,
      required: e.required,
      hasDefault: e.hasDefault,
      usingDefault: e.usingDefault,
      versionId: e.versionId,
      lastRefresh: confirmed ? e.lastRead : null,
      lastChanged: e.lastChanged,
      lastErrorCode: e.lastErrorCode,
      previousAccepted: e.previousAccepted,
      source: !e.loaded ? null : e.usingDefault ? 'default' : s.source,
      rotation: rotationDue(schedules[name]?.rotation, e.loaded && !e.usingDefault ? e.lastChanged : null, nowMs),
      placeholder: placeholders.includes(name),
    };
  }
  return {
    status: secretsHealth(s),
    source: s.source === 'aws' ? 'AWS Secrets Manager' : 'Environment variables',
    region: s.region,
    regionSince: s.regionSince,
    primaryRegion: s.primaryRegion,
    degraded: s.degraded,
    totalSecrets: s.totalSecrets,
    secretsLoaded: s.secretsLoaded,
    requiredSecretsOk: s.requiredSecretsOk,
    cacheAge: s.cacheAgeMs,
    cacheExpired: s.cacheExpired,
    lastRefresh: s.lastRefresh,
    lastAnyRefresh: s.lastAnyRefresh,
    nextRefresh: s.nextRefresh,
    lastErrorCode: s.lastErrorCode,
    consecutiveFailures: s.consecutiveFailures,
    placeholders: [...placeholders],
    secrets,
  };
}
