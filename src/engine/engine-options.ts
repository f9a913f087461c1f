import type { BackoffPolicy } from './backoff.js';
import { defaultBackoff } from './backoff.js';
import type { Catalog, CatalogSpec } from './catalog.js';
import type { Clock } from './clock.js';
import { SecretsError } from './errors.js';
import type { Logger } from './logger.js';
import type { SecretSource } from './source.js';

export const DEFAULT_TTL_MS = 60 * 60 * 1000;
/**
 * The shortest TTL accepted: below it an instance refreshes all the time (1 ms was accepted once),
 * and a fleet spends Secrets Manager's per-region quota on nothing.
 */
export const MIN_TTL_MS = 10_000;
/**
 * The longest TTL accepted (365 days). Timers of any length work (they are chained past Node's
 * 24.9-day limit); the ceiling keeps due times representable as dates in status.
 */
export const MAX_TTL_MS = 365 * 24 * 60 * 60 * 1000;
export const DEFAULT_GRACE_MS = 15 * 60 * 1000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 8_000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

export interface SecretsEngineOptions<C extends CatalogSpec> {
  readonly catalog: Catalog<C>;
  readonly source: SecretSource;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How long a loaded snapshot is fresh (MIN_TTL_MS to MAX_TTL_MS). The scheduled refresh falls in [ttlMs/2, ttlMs]. */
  readonly ttlMs?: number;
  /** How long after a rotation (the new version's creation, or a rollback seen) the previous value stays accepted. */
  readonly graceMs?: number;
  /** Deadline of one whole refresh attempt, however the source behaves. */
  readonly attemptTimeoutMs?: number;
  /** How long `initialize()` retries transient failures (throttling, 5xx, timeouts, network) before it gives up. */
  readonly startupTimeoutMs?: number;
  /** Retries of failed refreshes after start-up; 10-20 s by default. */
  readonly backoff?: BackoffPolicy;
  /**
   * false: no timer starts a refresh; the first read after expiry (or after a failed attempt's
   * backoff delay) does, or an explicit `refresh()`. For hosts that freeze between requests, such as Lambda.
   */
  readonly autoRefresh?: boolean;
  readonly random?: () => number;
}

/** The engine's timing settings, checked: a bad one fails at construction, naming the option. */
export function validatedOptions<C extends CatalogSpec>(options: SecretsEngineOptions<C>) {
  const backoff = options.backoff ?? defaultBackoff;
  atLeast('backoff.baseMs', backoff.baseMs, 1);
  atLeast('backoff.capMs', backoff.capMs, backoff.baseMs);
  return {
    ttlMs: atMost('ttlMs', atLeast('ttlMs', options.ttlMs ?? DEFAULT_TTL_MS, MIN_TTL_MS), MAX_TTL_MS),
    graceMs: atLeast('graceMs', options.graceMs ?? DEFAULT_GRACE_MS, 0),
    attemptTimeoutMs: atLeast('attemptTimeoutMs', options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS, 1),
    startupTimeoutMs: atLeast('startupTimeoutMs', options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS, 1),
    backoff,
    autoRefresh: options.autoRefresh ?? true,
    random: options.random ?? Math.random,
  };
}

function atLeast(setting: string, v: number, min: number): number {
  if (!Number.isFinite(v) || v < min) throw new SecretsError('SECRETS_INVALID_CONFIG', `${setting} must be at least ${min} milliseconds`);
  return v;
}

function atMost(setting: string, v: number, max: number): number {
  if (v > max) throw new SecretsError('SECRETS_INVALID_CONFIG', `${setting} must be at most ${max} milliseconds`);
  return v;
}
