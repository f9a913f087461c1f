import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { cellsFor, EMPTY_SNAPSHOT, isAbsence, nextSnapshot, requiredProblems, type AttemptResult, type Snapshot } from '../../src/engine/snapshot.js';
import type { SecretFailure, SecretRecord } from '../../src/engine/source.js';
import { integer, text } from '../../src/engine/value-kinds.js';

const catalog = defineCatalog({
  TOKEN: { kind: text(), required: true, description: 'token', acceptsPrevious: true },
  URL: { kind: text(), required: true, description: 'url' },
  LIMIT: { kind: integer({ min: 1 }), required: false, default: 10, description: 'limit' },
  OPTIONAL: { kind: text(), required: false, description: 'optional' },
});
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

let seq = 0;
function result(records: SecretRecord[], failures: SecretFailure[] = [], opts: Partial<AttemptResult> = {}): AttemptResult {
  return { attempt: ++seq, entries: catalog.entries, full: true, records, failures, previous: new Map(), ...opts };
}
const rec = (name: string, raw: string, versionId: string, createdAtMs = T0 - DAY, stages = ['AWSCURRENT']): SecretRecord => ({
  name,
  raw,
  versionId,
  createdAtMs,
  stages,
});
const base = () => [rec('TOKEN', 'token-1', 't1'), rec('URL', 'url-1', 'u1')];
const first = (): Snapshot => nextSnapshot(EMPTY_SNAPSHOT, result(base(), [{ name: 'OPTIONAL', code: 'ResourceNotFoundException', transient: false }]), T0).snapshot;

describe('nextSnapshot', () => {
  it('builds the first snapshot with values, defaults and no changes to report', () => {
    const merged = nextSnapshot(EMPTY_SNAPSHOT, result(base(), [{ name: 'OPTIONAL', code: 'NotSet', transient: false }]), T0);

    expect(merged.applied).toBe(true);
    expect(merged.changed).toEqual([]);
    expect(merged.snapshot.loadedAtMs).toBe(T0);
    expect(merged.snapshot.slots.get('TOKEN')).toMatchObject({ value: 'token-1', raw: 'token-1', versionId: 't1', sinceMs: T0 - DAY, errorCode: undefined });
    expect(merged.snapshot.slots.get('LIMIT')).toMatchObject({ value: 10, raw: undefined, fromDefault: true });
    expect(merged.snapshot.slots.get('OPTIONAL')).toMatchObject({ value: undefined, fromDefault: false, errorCode: undefined });
  });

  it('drops a result whose attempt is not newer than the snapshot, so a late result never overwrites a newer one', () => {
    const newer = nextSnapshot(EMPTY_SNAPSHOT, result(base(), [], { attempt: 5 }), T0).snapshot;

    const late = nextSnapshot(newer, result([rec('TOKEN', 'token-0', 't0')], [], { attempt: 4 }), T0 + 1);
    const same = nextSnapshot(newer, result([rec('TOKEN', 'token-0', 't0')], [], { attempt: 5 }), T0 + 1);

    expect(late).toEqual({ snapshot: newer, applied: false, changed: [], failures: [] });
    expect(same.applied).toBe(false);
    expect(same.snapshot).toBe(newer);
  });

  it('reports each changed secret with its new and previous version ids', () => {
    const merged = nextSnapshot(first(), result([rec('TOKEN', 'token-2', 't2', T0), rec('URL', 'url-1', 'u1')]), T0 + 5);

    expect(merged.changed).toEqual([{ name: 'TOKEN', versionId: 't2', previousVersionId: 't1' }]);
    expect(merged.snapshot.slots.get('TOKEN')).toMatchObject({ raw: 'token-2', sinceMs: T0, previous: { raw: 'token-1', versionId: 't1' } });
  });

  it('reports a value that appears without version ids, as the environment source gives them', () => {
    const prev = nextSnapshot(EMPTY_SNAPSHOT, result([{ name: 'TOKEN', raw: 'a' }, { name: 'URL', raw: 'b' }]), T0).snapshot;
    const merged = nextSnapshot(prev, result([{ name: 'TOKEN', raw: 'a2' }, { name: 'URL', raw: 'b' }, { name: 'OPTIONAL', raw: 'o' }]), T0 + 1);

    expect(merged.changed).toEqual([{ name: 'TOKEN' }, { name: 'OPTIONAL' }]);
  });

  it('keeps the last good value of a secret that failed, with its code, and a deleted one too', () => {
    const merged = nextSnapshot(
      first(),
      result([], [
        { name: 'TOKEN', code: 'ResourceNotFoundException', transient: false },
        { name: 'URL', code: 'InternalServiceError', transient: true },
      ]),
      T0 + 5,
    );

    expect(merged.changed).toEqual([]);
    expect(merged.snapshot.slots.get('TOKEN')).toMatchObject({ value: 'token-1', errorCode: 'ResourceNotFoundException', sinceMs: T0 - DAY });
    expect(merged.snapshot.slots.get('URL')).toMatchObject({ value: 'url-1', errorCode: 'InternalServiceError' });
    // A source whose answer does not mention a secret at all is at fault, not the secret.
    expect(merged.snapshot.slots.get('OPTIONAL')).toMatchObject({ value: undefined, errorCode: 'MissingFromSource' });
    expect(merged.snapshot.slots.get('LIMIT')).toMatchObject({ value: 10, errorCode: 'MissingFromSource' });
  });

  it('never serves a value that fails validation: the default, or the last good value, with the reason', () => {
    const merged = nextSnapshot(first(), result([...base(), rec('LIMIT', 'lots', 'l1')]), T0 + 5);
    expect(merged.snapshot.slots.get('LIMIT')).toMatchObject({ value: 10, fromDefault: true, errorCode: 'InvalidValue', invalidReason: 'not an integer' });
    expect(merged.failures).toEqual([{ name: 'LIMIT', code: 'InvalidValue', transient: false, reason: 'not an integer' }]);

    const good = nextSnapshot(merged.snapshot, result([...base(), rec('LIMIT', '7', 'l2')]), T0 + 6).snapshot;
    const bad = nextSnapshot(good, result([...base(), rec('LIMIT', '0', 'l3')]), T0 + 7).snapshot;
    expect(bad.slots.get('LIMIT')).toMatchObject({ value: 7, raw: '7', errorCode: 'InvalidValue', invalidReason: expect.stringMatching(/range/) });
    const fixed = nextSnapshot(bad, result([...base(), rec('LIMIT', '8', 'l4')]), T0 + 8).snapshot;
    expect(fixed.slots.get('LIMIT')).toMatchObject({ value: 8, errorCode: undefined, invalidReason: undefined });
  });

  it('clears a kept value’s invalid reason when a later failure is of another kind', () => {
    const bad = nextSnapshot(first(), result([rec('TOKEN', 'token-1', 't1'), rec('URL', 'url-1', 'u1'), rec('LIMIT', '0', 'l1')]), T0 + 1).snapshot;
    const good = nextSnapshot(bad, result([...base(), rec('LIMIT', '3', 'l2')]), T0 + 2).snapshot;
    const denied = nextSnapshot(good, result(base(), [{ name: 'LIMIT', code: 'AccessDeniedException', transient: false }]), T0 + 3).snapshot;
    expect(denied.slots.get('LIMIT')).toMatchObject({ value: 3, errorCode: 'AccessDeniedException', invalidReason: undefined });
  });

  it('merges a names-only result into the snapshot without touching the other secrets or the load time', () => {
    const prev = first();
    const merged = nextSnapshot(prev, result([rec('URL', 'url-2', 'u2', T0)], [], { entries: [catalog.entry('URL')!], full: false }), T0 + 9);

    expect(merged.snapshot.loadedAtMs).toBe(T0);
    expect(merged.snapshot.slots.get('URL')).toMatchObject({ value: 'url-2' });
    expect(merged.snapshot.slots.get('TOKEN')).toBe(prev.slots.get('TOKEN'));
    expect(merged.changed).toEqual([{ name: 'URL', versionId: 'u2', previousVersionId: 'u1' }]);
  });
});

describe('nextSnapshot: previous values', () => {
  it('takes the previous value the source brought along (the environment’s <NAME>_PREVIOUS)', () => {
    const merged = nextSnapshot(EMPTY_SNAPSHOT, result([{ name: 'TOKEN', raw: 'b', previous: { raw: 'a' } }, { name: 'URL', raw: 'u' }]), T0);
    expect(merged.snapshot.slots.get('TOKEN')).toMatchObject({ previous: { raw: 'a', versionId: undefined }, sinceMs: T0 });
  });

  it('prefers a fetched AWSPREVIOUS over the value held, which may be two versions behind', () => {
    const merged = nextSnapshot(
      first(),
      result([rec('TOKEN', 'token-3', 't3', T0), rec('URL', 'url-1', 'u1')], [], { previous: new Map([['TOKEN', { raw: 'token-2', versionId: 't2' }]]) }),
      T0 + 5,
    );
    expect(merged.snapshot.slots.get('TOKEN')!.previous).toEqual({ raw: 'token-2', versionId: 't2' });
  });

  it('keeps the previous value and its window while the current version stays the same', () => {
    const rotated = nextSnapshot(first(), result([rec('TOKEN', 'token-2', 't2', T0), rec('URL', 'url-1', 'u1')]), T0 + 5).snapshot;
    const again = nextSnapshot(rotated, result([rec('TOKEN', 'token-2', 't2', T0), rec('URL', 'url-1', 'u1')]), T0 + 50).snapshot;

    expect(again.slots.get('TOKEN')).toMatchObject({ previous: { raw: 'token-1' }, sinceMs: T0 });
  });

  it('holds no previous value for a secret that does not accept one', () => {
    const merged = nextSnapshot(first(), result([rec('TOKEN', 'token-1', 't1'), rec('URL', 'url-2', 'u2', T0)]), T0 + 5);
    expect(merged.snapshot.slots.get('URL')!.previous).toBeUndefined();
  });

  it('starts the window when a rollback is seen: the restored version is older than the one it replaces', () => {
    const rotated = nextSnapshot(first(), result([rec('TOKEN', 'token-2', 't2', T0), rec('URL', 'url-1', 'u1')]), T0 + 5).snapshot;
    const rolledBack = nextSnapshot(rotated, result([rec('TOKEN', 'token-1', 't1', T0 - DAY), rec('URL', 'url-1', 'u1')]), T0 + 600_000).snapshot;

    expect(rolledBack.slots.get('TOKEN')).toMatchObject({ raw: 'token-1', sinceMs: T0 + 600_000, previous: { raw: 'token-2', versionId: 't2' } });
  });
});

describe('cellsFor', () => {
  it('carries each read count over to the new map', () => {
    const old = cellsFor(first().slots, new Map());
    old.get('TOKEN')!.reads = 3;

    const cells = cellsFor(nextSnapshot(first(), result([rec('TOKEN', 'token-2', 't2'), rec('URL', 'url-1', 'u1')]), T0).snapshot.slots, old);

    expect(cells.get('TOKEN')).toEqual({ value: 'token-2', reads: 3 });
    expect(cells.get('URL')).toEqual({ value: 'url-1', reads: 0 });
    expect([...cells.keys()]).toEqual(['TOKEN', 'URL', 'LIMIT', 'OPTIONAL']);
  });
});

describe('requiredProblems', () => {
  it('names each required secret without a value, with a reason and never the value', () => {
    const snapshot = nextSnapshot(
      EMPTY_SNAPSHOT,
      result([rec('URL', '', 'u1')], [{ name: 'TOKEN', code: 'AccessDeniedException', transient: false }]),
      T0,
    ).snapshot;
    expect(requiredProblems(catalog, snapshot)).toEqual([
      { name: 'TOKEN', reason: 'AccessDeniedException', code: 'AccessDeniedException' },
      { name: 'URL', reason: 'invalid: empty', code: 'InvalidValue' },
    ]);
    expect(requiredProblems(catalog, EMPTY_SNAPSHOT).map((p) => p.reason)).toEqual(['missing', 'missing']);
    expect(requiredProblems(catalog, first())).toEqual([]);
  });
});

describe('isAbsence', () => {
  it('counts only "not set" and "not found" as absence', () => {
    expect(['NotSet', 'ResourceNotFoundException', 'AccessDeniedException', 'InvalidValue'].map(isAbsence)).toEqual([true, true, false, false]);
  });
});

describe('nextSnapshot: version changes without a value change', () => {
  it('reports a new version of the same value as a change, with its own creation as the change time', () => {
    const start = nextSnapshot(EMPTY_SNAPSHOT, result([{ name: 'TOKEN', raw: 'same', versionId: 'v1', createdAtMs: 1_000 }, { name: 'URL', raw: 'u' }]), 5_000).snapshot;
    const merged = nextSnapshot(start, result([{ name: 'TOKEN', raw: 'same', versionId: 'v2', createdAtMs: 4_000 }, { name: 'URL', raw: 'u' }]), 6_000);

    expect(merged.changed).toEqual([{ name: 'TOKEN', versionId: 'v2', previousVersionId: 'v1' }]);
    expect(merged.snapshot.slots.get('TOKEN')!.sinceMs).toBe(4_000);
  });

  it('starts a new window and keeps the old value as previous when a value without version ids changes', () => {
    const start = nextSnapshot(EMPTY_SNAPSHOT, result([{ name: 'TOKEN', raw: 'a' }, { name: 'URL', raw: 'u' }]), 1_000).snapshot;
    const next = nextSnapshot(start, result([{ name: 'TOKEN', raw: 'b' }, { name: 'URL', raw: 'u' }]), 2_000).snapshot;

    expect(next.slots.get('TOKEN')).toMatchObject({ sinceMs: 2_000, previous: { raw: 'a', versionId: undefined } });
  });
});
