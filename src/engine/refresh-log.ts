import type { Catalog } from './catalog.js';
import type { Logger } from './logger.js';
import type { ChangedSecret, RefreshOutcome } from './refresh-outcome.js';
import { isAbsence, type Snapshot } from './snapshot.js';
import type { SecretFailure } from './source.js';

/**
 * The engine's audit lines about refreshes: names, codes, version ids and counts, never a value.
 * Transient trouble at warn; denial, deletion, invalid values and the like at error.
 */
export function logSecretFailures(logger: Logger, catalog: Catalog, before: Snapshot, failures: readonly SecretFailure[]): void {
  for (const f of failures) {
    const hadValue = before.slots.get(f.name)?.raw !== undefined;
    // An optional secret that never had a value and still has none: normal, not news.
    if (isAbsence(f.code) && !hadValue && catalog.entry(f.name)?.spec.required !== true) continue;
    logger[f.transient ? 'warn' : 'error'](
      { event: 'secrets.secret_failed', name: f.name, code: f.code, reason: f.reason, keptCachedValue: hadValue },
      hadValue ? 'Secret could not be refreshed; keeping cached value' : 'Secret could not be loaded',
    );
  }
}

export function logRefreshed(logger: Logger, outcome: RefreshOutcome & { ok: true }): void {
  const changed = outcome.changed.map((c: ChangedSecret) => ({ name: c.name, versionId: c.versionId ?? null }));
  logger.info(
    { event: 'secrets.refreshed', reason: outcome.reason, ...(outcome.names && { names: outcome.names }), changed },
    changed.length > 0 ? `Secrets refreshed; changed: ${changed.map((c) => c.name).join(', ')}` : 'Secrets refreshed; nothing changed',
  );
}

export function logRefreshFailed(logger: Logger, outcome: RefreshOutcome & { ok: false }, consecutiveFailures: number): void {
  logger[outcome.transient ? 'warn' : 'error'](
    { event: 'secrets.refresh_failed', reason: outcome.reason, code: outcome.code, consecutiveFailures, ...(outcome.names && { names: outcome.names }) },
    outcome.reason === 'startup' ? 'Loading secrets failed' : 'Secret refresh failed; keeping cached values',
  );
}
