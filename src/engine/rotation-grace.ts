import type { Catalog, CatalogEntry } from './catalog.js';
import type { SecretRecord } from './source.js';
import { IMMEDIATE_ROTATION_STAGE } from './source.js';

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
 * Normally at the version's creation: an instance that learns of a rotation late (or starts
 * after it) does not stretch the window. But a version older than the one it replaces has become
 * current again: a rollback. Its creation says nothing about when the switch happened, so the
 * window starts when this process saw it, and running instances keep accepting the value rolled
 * away from for the grace window (unless the rollback was immediate: see previousAccepted).
 */
export function currentSinceMs(record: Pick<SecretRecord, 'createdAtMs'>, held: HeldVersion | undefined, nowMs: number): number {
  const createdAtMs = record.createdAtMs ?? nowMs;
  const rollback = held?.createdAtMs !== undefined && createdAtMs < held.createdAtMs;
  return rollback ? nowMs : createdAtMs;
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
 * not rotated immediately, and whose version is young enough for the window to be open.
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
    if ((r.createdAtMs ?? nowMs) + graceMs <= nowMs) continue;
    want.push(entry);
  }
  return want;
}
