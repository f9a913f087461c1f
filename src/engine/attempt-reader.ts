import type { Catalog } from './catalog.js';
import type { Logger } from './logger.js';
import type { Attempt } from './refresh-machine.js';
import { previousWanted } from './rotation-grace.js';
import type { AttemptResult, PreviousValue, Slot } from './snapshot.js';
import type { SecretRecord, SecretSource } from './source.js';

export interface AttemptReaderOptions {
  readonly catalog: Catalog;
  readonly source: SecretSource;
  readonly logger: Logger;
  readonly graceMs: number;
}

/**
 * The I/O of one attempt: the secrets it covers (the whole catalog in one load, or a few names
 * one call each), then AWSPREVIOUS where a rotation's grace window is open. `held` is the
 * snapshot's slots when the attempt runs, to tell new versions from known ones.
 */
export async function readAttempt(
  options: AttemptReaderOptions,
  attempt: Attempt,
  held: ReadonlyMap<string, Slot>,
  nowMs: number,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const { catalog, source } = options;
  const { scope } = attempt;
  const entries = scope === 'all' ? catalog.entries : catalog.entries.filter((e) => scope.has(e.name));
  const loaded =
    scope !== 'all' && source.loadIndividually !== undefined
      ? await source.loadIndividually(entries, signal)
      : await source.load(entries, signal);
  const previous = await readPrevious(options, loaded.records, held, nowMs, signal, loaded.region);
  signal.throwIfAborted();
  return {
    attempt: attempt.seq,
    entries,
    full: scope === 'all',
    records: loaded.records,
    failures: loaded.failures,
    previous,
    ...(loaded.region !== undefined && { region: loaded.region }),
  };
}

/** AWSPREVIOUS costs one GetSecretValue per secret: fetched only where a grace window is open. */
async function readPrevious(
  options: AttemptReaderOptions,
  records: readonly SecretRecord[],
  held: ReadonlyMap<string, Slot>,
  nowMs: number,
  signal: AbortSignal,
  fromRegion: string | undefined,
): Promise<Map<string, PreviousValue>> {
  const found = new Map<string, PreviousValue>();
  const want = previousWanted(options.catalog, records, held, options.graceMs, nowMs);
  if (want.length === 0 || options.source.loadPrevious === undefined) return found;
  const result = await options.source.loadPrevious(want, signal, fromRegion);
  for (const r of result.records) found.set(r.name, { raw: r.raw, versionId: r.versionId });
  for (const f of result.failures) {
    if (f.code === 'ResourceNotFoundException') continue; // a secret with one version has no previous
    options.logger.warn({ event: 'secrets.previous_failed', name: f.name, code: f.code }, 'Could not load previous version');
  }
  return found;
}
