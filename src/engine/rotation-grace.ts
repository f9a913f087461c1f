import type { Catalog, CatalogEntry } from './catalog.js';
import type { SecretRecord } from './source.js';
import { IMMEDIATE_ROTATION_STAGE, switchedAtMs } from './source.js';

/** What the grace policy needs to know of the value a snapshot holds for a secret. */
export interface HeldVersion {
  readonly versionId: string | undefined;
  readonly createdAtMs: number | undefined;
  readonly stages: readonly string[];
  /** When this version became current as far as this process knows (see `currentSinceMs`). */
  readonly sinceMs: number;
  readonly previous: unknown;
}

/**
 * When a version that just replaced `held` became current, which is when the previous value's
 * grace window starts.
 * At the switch, as the rotation's finish step recorded it on the version (SWITCHED_AT_<ms>, the
 * same for every instance): a rotation resumed or retried hours after its version was created
 * still gives the previous value the whole window, and an instance that learns of the rotation
 * late (or starts after it) does not stretch it. Without that label (a version made current by
 * an older release, or by hand), at the version's creation. But a version older than the one it
 * replaces has become current again: a rollback. Neither says when that switch happened, so the
 * window starts when this process saw it, and running instances keep accepting the value rolled
 * away from for the grace window (unless the rollback was immediate: see previousAccepted).
 */
export function currentSinceMs(record: Pick<SecretRecord, 'createdAtMs' | 'stages'>, held: HeldVersion | undefined, nowMs: number): number {
  const createdAtMs = record.createdAtMs ?? nowMs;
  const rollback = held?.createdAtMs !== undefined && createdAtMs < held.createdAtMs;
  return rollback ? nowMs : (switchedAtMs(record.stages) ?? createdAtMs);
}

/**
 * Whether a presented credential may still match the previous value: only for secrets that
 * accept one, while the window is open, and never when the current version carries
 * ROTATION_IMMEDIATE (an immediate rotation, or an immediate rollback).
 */
export function previousAccepted(entry: CatalogEntry | undefined, held: HeldVersion, graceMs: number, nowMs: number): boolean {
  return (
    held.previous !== undefined &&
    entry?.spec.acceptsPrevious === true &&
    !held.stages.includes(IMMEDIATE_ROTATION_STAGE) &&
    nowMs < held.sinceMs + graceMs
  );
}

/**
 * Which loaded secrets need their AWSPREVIOUS value fetched (one GetSecretValue each): those that
 * accept it, whose source did not bring it along, whose current version is new to us, that were
 * not rotated immediately, and whose switch (or, without its label, creation) is recent enough for
 * the window to be open.
 */
export function previousWanted(
  catalog: Catalog,
  records: readonly SecretRecord[],
  held: ReadonlyMap<string, HeldVersion>,
  graceMs: number,
  nowMs: number,
): CatalogEntry[] {
  const want: CatalogEntry[] = [];
  for (const r of records) {
    const entry = catalog.entry(r.name);
    if (entry?.spec.acceptsPrevious !== true || r.previous !== undefined) continue;
    const before = held.get(r.name);
    if (before !== undefined && before.versionId === r.versionId) continue;
    if ((r.stages ?? []).includes(IMMEDIATE_ROTATION_STAGE)) continue;
    if ((switchedAtMs(r.stages) ?? r.createdAtMs ?? nowMs) + graceMs <= nowMs) continue;
    want.push(entry);
  }
  return want;
}
