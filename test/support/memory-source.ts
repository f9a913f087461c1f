import type { CatalogEntry } from '../../src/engine/catalog.js';
import { SourceError } from '../../src/engine/errors.js';
import type { LoadResult, SecretFailure, SecretRecord, SecretSource } from '../../src/engine/source.js';

interface Version {
  readonly raw: string;
  readonly versionId: string;
  readonly createdAtMs: number;
  readonly stages: string[];
}

/**
 * An in-memory source for unit tests of the engine's logic: versions with AWSCURRENT and
 * AWSPREVIOUS, per-secret failures, whole-source failures, hangs, and a call log.
 */
export class MemorySource implements SecretSource {
  readonly kind = 'aws' as const;
  readonly description = 'memory';
  readonly region = 'test-1';
  calls: { op: 'load' | 'loadPrevious'; names: string[] }[] = [];
  failAll: SourceError | undefined;
  failSecret = new Map<string, SecretFailure>();
  hang = false;
  private versions = new Map<string, Version[]>();
  private seq = 0;

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

  async load(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    return this.read('load', 'AWSCURRENT', entries, signal);
  }

  async loadPrevious(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    return this.read('loadPrevious', 'AWSPREVIOUS', entries, signal);
  }

  private async read(op: 'load' | 'loadPrevious', stage: string, entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    this.calls.push({ op, names: entries.map((e) => e.name) });
    if (this.hang) {
      await new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    }
    await Promise.resolve();
    if (this.failAll) throw this.failAll;
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
