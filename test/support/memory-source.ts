import type { CatalogEntry } from '../../src/engine/catalog.js';
import { SourceError } from '../../src/engine/errors.js';
import type { LoadResult, SecretFailure, SecretRecord, SecretSource } from '../../src/engine/source.js';

interface Version {
  readonly raw: string;
  readonly versionId: string;
  readonly createdAtMs: number;
  readonly stages: string[];
}

type Op = 'load' | 'loadPrevious' | 'loadIndividually';

/**
 * An in-memory source for unit tests of the engine's logic: versions with AWSCURRENT and
 * AWSPREVIOUS, rollbacks, deleted secrets, per-secret failures, whole-source failures, hangs,
 * loads held until the test releases them, and a call log.
 */
export class MemorySource implements SecretSource {
  readonly kind = 'aws' as const;
  readonly description = 'memory';
  readonly region = 'test-1';
  calls: { op: Op; names: string[] }[] = [];
  failAll: SourceError | undefined;
  failSecret = new Map<string, SecretFailure>();
  hang = false;
  private versions = new Map<string, Version[]>();
  private seq = 0;
  private held: (() => void)[] = [];
  private holding = false;

  constructor(private readonly now: () => number) {}

  put(name: string, raw: string, extraStages: string[] = [], createdAtMs = this.now()): string {
    const list = this.versions.get(name) ?? [];
    for (const v of list) {
      const wasCurrent = v.stages.includes('AWSCURRENT');
      v.stages.splice(0, v.stages.length, ...(wasCurrent ? ['AWSPREVIOUS'] : []));
    }
    const versionId = `v${++this.seq}`;
    list.push({ raw, versionId, createdAtMs, stages: ['AWSCURRENT', ...extraStages] });
    this.versions.set(name, list);
    return versionId;
  }

  /**
   * What `secrets rollback` does: AWSCURRENT back to the AWSPREVIOUS version (which keeps its old
   * creation date), AWSPREVIOUS onto the version rolled away from. `immediate` moves the
   * ROTATION_IMMEDIATE label onto the restored version; otherwise no version keeps it.
   */
  rollback(name: string, options: { immediate: boolean }): void {
    const list = this.versions.get(name) ?? [];
    const current = list.find((v) => v.stages.includes('AWSCURRENT'));
    const previous = list.find((v) => v.stages.includes('AWSPREVIOUS'));
    if (current === undefined || previous === undefined) throw new Error(`nothing to roll back for ${name}`);
    current.stages.splice(0, current.stages.length, 'AWSPREVIOUS');
    previous.stages.splice(0, previous.stages.length, 'AWSCURRENT', ...(options.immediate ? ['ROTATION_IMMEDIATE'] : []));
  }

  /** The secret is deleted from the store: reads answer ResourceNotFoundException. */
  remove(name: string): void {
    this.versions.delete(name);
  }

  /** From now on, loads read the store, then wait until `release()`. */
  hold(): void {
    this.holding = true;
  }

  /** Lets held loads go on (the newest or oldest one, or all), and stops holding new ones. */
  release(which: 'newest' | 'oldest' | 'all' = 'all'): void {
    this.holding = false;
    const go = which === 'all' ? this.held.splice(0) : which === 'oldest' ? this.held.splice(0, 1) : this.held.splice(-1, 1);
    for (const fn of go) fn();
  }

  heldCount(): number {
    return this.held.length;
  }

  async load(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    return this.read('load', 'AWSCURRENT', entries, signal);
  }

  async loadIndividually(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    return this.read('loadIndividually', 'AWSCURRENT', entries, signal);
  }

  async loadPrevious(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    return this.read('loadPrevious', 'AWSPREVIOUS', entries, signal);
  }

  private async read(op: Op, stage: string, entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    this.calls.push({ op, names: entries.map((e) => e.name) });
    if (this.hang) {
      await new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    }
    // Values are read when the load starts, as a real store answers what it held then.
    const snapshot = this.answer(stage, entries);
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    await Promise.resolve();
    signal.throwIfAborted();
    if (this.failAll) throw this.failAll;
    return snapshot;
  }

  private answer(stage: string, entries: readonly CatalogEntry[]): LoadResult {
    const records: SecretRecord[] = [];
    const failures: SecretFailure[] = [];
    for (const { name } of entries) {
      const failure = this.failSecret.get(name);
      const v = this.versions.get(name)?.find((x) => x.stages.includes(stage));
      if (failure) failures.push(failure);
      else if (!v) failures.push({ name, code: 'ResourceNotFoundException', transient: false });
      else records.push({ name, raw: v.raw, versionId: v.versionId, createdAtMs: v.createdAtMs, stages: [...v.stages] });
    }
    return { records, failures };
  }
}
