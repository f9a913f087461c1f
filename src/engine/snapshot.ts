import type { Catalog, CatalogEntry } from './catalog.js';
import type { ChangedSecret } from './refresh-outcome.js';
import type { HeldVersion } from './rotation-grace.js';
import { currentSinceMs } from './rotation-grace.js';
import type { SecretFailure, SecretRecord } from './source.js';

export interface PreviousValue {
  readonly raw: string;
  readonly versionId: string | undefined;
}

/** One secret in a snapshot. Never leaves the engine except through get() and accepted(). */
export interface Slot extends HeldVersion {
  readonly value: unknown;
  /** The stored text; undefined while the secret has never had a value (default or absent). */
  readonly raw: string | undefined;
  readonly fromDefault: boolean;
  readonly previous: PreviousValue | undefined;
  /** Why the last read of this secret failed; the cached value, if any, is kept meanwhile. */
  readonly errorCode: string | undefined;
  /** For InvalidValue: what the validator expected, never the value. */
  readonly invalidReason: string | undefined;
  /** When the value held was last read from the store (a named refresh included); undefined if never. */
  readonly readAtMs: number | undefined;
}

/** Immutable: a refresh builds the next one and the engine swaps it whole. */
export interface Snapshot {
  /** The attempt whose result this is; a result of an attempt that is not newer is dropped. */
  readonly attempt: number;
  /** When the last load of the whole catalog was applied; 0 before the first. */
  readonly loadedAtMs: number;
  readonly slots: ReadonlyMap<string, Slot>;
}

export const EMPTY_SNAPSHOT: Snapshot = { attempt: 0, loadedAtMs: 0, slots: new Map() };

/** What one attempt read from the source. */
export interface AttemptResult {
  readonly attempt: number;
  /** The secrets it read: the whole catalog, or the names of `refresh({ names })`. */
  readonly entries: readonly CatalogEntry[];
  readonly full: boolean;
  readonly records: readonly SecretRecord[];
  readonly failures: readonly SecretFailure[];
  /** AWSPREVIOUS values fetched for secrets in a rotation's grace window. */
  readonly previous: ReadonlyMap<string, PreviousValue>;
  /** The region that answered the current values (AWS mode). */
  readonly region?: string;
}

export interface Merged {
  readonly snapshot: Snapshot;
  /** False when the result was older than the snapshot and dropped. */
  readonly applied: boolean;
  readonly changed: readonly ChangedSecret[];
  /**
   * The source's failures plus values that failed validation. An optional secret that was never
   * created is not one: there is nothing to load and nothing is wrong (a deleted one that held a
   * value is).
   */
  readonly failures: readonly SecretFailure[];
}

/** Codes that mean "no such value" rather than "could not read it". */
export function isAbsence(code: string): boolean {
  return code === 'NotSet' || code === 'ResourceNotFoundException';
}

/**
 * The next snapshot from the previous one, one attempt's result and the time; pure, so every
 * merge rule is tested without a clock or a source. A secret that failed keeps its last good
 * value (with the error code); a value that fails validation is never served; secrets the
 * attempt did not read are carried over as they were.
 */
export function nextSnapshot(prev: Snapshot, result: AttemptResult, nowMs: number): Merged {
  if (result.attempt <= prev.attempt) return { snapshot: prev, applied: false, changed: [], failures: [] };
  const records = new Map(result.records.map((r) => [r.name, r]));
  const failed = new Map(result.failures.map((f) => [f.name, f]));
  const entries = new Map(result.entries.map((e) => [e.name, e]));
  const failures = result.failures.filter((f) => {
    const entry = entries.get(f.name);
    return !(isAbsence(f.code) && entry !== undefined && !entry.spec.required && prev.slots.get(f.name)?.raw === undefined);
  });
  const slots = new Map(prev.slots);
  const changed: ChangedSecret[] = [];

  for (const entry of result.entries) {
    const before = prev.slots.get(entry.name);
    const record = records.get(entry.name);
    let slot: Slot;
    if (record === undefined) {
      slot = keepOrDefault(entry, before, failed.get(entry.name)?.code ?? 'MissingFromSource');
    } else {
      const parsed = entry.spec.kind.parse(record.raw);
      if (parsed.ok) {
        slot = current(entry, record, parsed.value, before, result.previous.get(entry.name), nowMs);
      } else {
        failures.push({ name: entry.name, code: 'InvalidValue', transient: false, reason: parsed.reason });
        slot = keepOrDefault(entry, before, 'InvalidValue', parsed.reason);
      }
    }
    if (before !== undefined && (before.raw !== slot.raw || before.versionId !== slot.versionId)) {
      changed.push({
        name: entry.name,
        ...(slot.versionId !== undefined && { versionId: slot.versionId }),
        ...(before.versionId !== undefined && { previousVersionId: before.versionId }),
      });
    }
    slots.set(entry.name, slot);
  }
  const loadedAtMs = result.full ? nowMs : prev.loadedAtMs;
  return { snapshot: { attempt: result.attempt, loadedAtMs, slots }, applied: true, changed, failures };
}

function current(
  entry: CatalogEntry,
  record: SecretRecord,
  value: unknown,
  before: Slot | undefined,
  fetchedPrevious: PreviousValue | undefined,
  nowMs: number,
): Slot {
  const same = before !== undefined && before.raw === record.raw && before.versionId === record.versionId;
  let previous: PreviousValue | undefined;
  if (record.previous !== undefined) previous = { raw: record.previous.raw, versionId: record.previous.versionId };
  else if (same) previous = before.previous;
  // A change seen within this process: what we held is the previous value, unless AWSPREVIOUS
  // was fetched (two rotations between refreshes leave what we held two versions behind).
  else previous = fetchedPrevious ?? (before?.raw !== undefined ? { raw: before.raw, versionId: before.versionId } : undefined);
  return {
    value,
    raw: record.raw,
    fromDefault: false,
    versionId: record.versionId,
    createdAtMs: record.createdAtMs,
    stages: record.stages ?? [],
    sinceMs: same ? before.sinceMs : currentSinceMs(record, before, nowMs),
    previous: entry.spec.acceptsPrevious === true ? previous : undefined,
    errorCode: undefined,
    invalidReason: undefined,
    readAtMs: nowMs,
  };
}

/**
 * A secret that could not be read keeps its last good value, never replaced by an empty one; its
 * error code shows in status. Absence is normal only for a secret that never had a value: a
 * deleted secret that we still serve from memory is reported (the next start would fail).
 */
function keepOrDefault(entry: CatalogEntry, before: Slot | undefined, code: string, invalidReason?: string): Slot {
  if (before !== undefined && before.raw !== undefined) return { ...before, errorCode: code, invalidReason };
  return {
    value: entry.spec.default,
    raw: undefined,
    fromDefault: entry.spec.default !== undefined,
    versionId: undefined,
    createdAtMs: undefined,
    stages: [],
    sinceMs: 0,
    previous: undefined,
    errorCode: isAbsence(code) ? undefined : code,
    invalidReason,
    readAtMs: undefined,
  };
}

/** A value and its read count, in the map the hot path reads. */
export interface Cell {
  readonly value: unknown;
  reads: number;
}

/** The hot path's map for `slots`, carrying each name's read count over from the map it replaces. */
export function cellsFor(slots: ReadonlyMap<string, Slot>, old: ReadonlyMap<string, Cell>): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const [name, slot] of slots) cells.set(name, { value: slot.value, reads: old.get(name)?.reads ?? 0 });
  return cells;
}

/** Required secrets without a value after a load, by name, with why: never the value. */
export function requiredProblems(catalog: Catalog, snapshot: Snapshot): { name: string; reason: string; code: string | undefined }[] {
  return catalog.entries.flatMap(({ name, spec }) => {
    const slot = snapshot.slots.get(name);
    if (!spec.required || slot?.raw !== undefined) return [];
    const code = slot?.errorCode;
    const reason = slot?.invalidReason !== undefined ? `invalid: ${slot.invalidReason}` : code === undefined ? 'missing' : code;
    return [{ name, reason, code }];
  });
}
