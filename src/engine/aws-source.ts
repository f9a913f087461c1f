import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import type { CatalogEntry } from './catalog.js';
import { classifyAwsError } from './aws-error.js';
import { SourceError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { LoadResult, SecretFailure, SecretRecord, SecretSource } from './source.js';

/** BatchGetSecretValue takes at most 20 ids a call. */
export const BATCH_SIZE = 20;
/** Per-secret fallback: how many GetSecretValue calls run at once. */
const FALLBACK_CONCURRENCY = 4;

export interface AwsSourceOptions {
  readonly client: SecretsManagerClient;
  readonly region: string;
  readonly logger?: Logger;
}

/** What BatchGetSecretValue and GetSecretValue both return for one secret. */
type ValueEntry = Pick<SecretValueEntry, 'Name' | 'ARN' | 'SecretString' | 'VersionId' | 'VersionStages' | 'CreatedDate'>;

function toRecord(name: string, v: ValueEntry): SecretRecord | SecretFailure {
  // Binary secrets are out of the catalog's scope; say so by code rather than load garbage.
  if (typeof v.SecretString !== 'string') return { name, code: 'SecretStringMissing', transient: false };
  return {
    name,
    raw: v.SecretString,
    ...(v.VersionId !== undefined && { versionId: v.VersionId }),
    ...(v.CreatedDate !== undefined && { createdAtMs: v.CreatedDate.getTime() }),
    ...(v.VersionStages !== undefined && { stages: v.VersionStages }),
  };
}

const isFailure = (r: SecretRecord | SecretFailure): r is SecretFailure => 'code' in r;

/**
 * AWS mode: the catalog in one BatchGetSecretValue call per 20 secrets. Where the batch call is
 * denied (a role with GetSecretValue on the secrets but no BatchGetSecretValue on `*`), it falls
 * back to GetSecretValue per secret and remembers that, so later refreshes skip the doomed call.
 */
export function createAwsSource(options: AwsSourceOptions): SecretSource {
  const { client, region, logger = silentLogger } = options;
  let batchDenied = false;

  function chunks<T>(items: readonly T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }

  async function batch(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<(SecretRecord | SecretFailure)[]> {
    const byId = new Map<string, string>();
    for (const e of entries) byId.set(e.awsId, e.name);
    const nameOf = (id: string | undefined): string | undefined => {
      if (id === undefined) return undefined;
      const direct = byId.get(id);
      if (direct !== undefined) return direct;
      for (const e of entries) if (id.includes(`:secret:${e.awsId}-`)) return e.name;
      return undefined;
    };
    const out = await client.send(new BatchGetSecretValueCommand({ SecretIdList: entries.map((e) => e.awsId) }), {
      abortSignal: signal,
    });
    const results: (SecretRecord | SecretFailure)[] = [];
    const seen = new Set<string>();
    for (const v of out.SecretValues ?? []) {
      const name = nameOf(v.Name) ?? nameOf(v.ARN);
      if (name === undefined || seen.has(name)) continue;
      seen.add(name);
      results.push(toRecord(name, v));
    }
    for (const err of out.Errors ?? []) {
      const name = nameOf(err.SecretId);
      if (name === undefined || seen.has(name)) continue;
      seen.add(name);
      const { code, transient } = classifyAwsError({ name: err.ErrorCode });
      results.push({ name, code, transient });
    }
    // A secret the answer does not mention at all is a fault of the answer, not a missing secret.
    for (const e of entries) if (!seen.has(e.name)) results.push({ name: e.name, code: 'MissingFromBatch', transient: true });
    return results;
  }

  async function single(entry: CatalogEntry, signal: AbortSignal, stage?: string): Promise<SecretRecord | SecretFailure> {
    try {
      const out = await client.send(
        new GetSecretValueCommand({ SecretId: entry.awsId, ...(stage !== undefined && { VersionStage: stage }) }),
        { abortSignal: signal },
      );
      return toRecord(entry.name, out);
    } catch (err) {
      if (signal.aborted) throw err;
      return { name: entry.name, ...classifyAwsError(err) };
    }
  }

  async function eachSingle(entries: readonly CatalogEntry[], signal: AbortSignal, stage?: string) {
    const results: (SecretRecord | SecretFailure)[] = [];
    for (const group of chunks(entries, FALLBACK_CONCURRENCY)) {
      results.push(...(await Promise.all(group.map((e) => single(e, signal, stage)))));
    }
    return results;
  }

  /** All failed the same way: the source as a whole is down or denied, not these secrets. */
  function wholeFailure(results: readonly (SecretRecord | SecretFailure)[]): SourceError | undefined {
    if (results.length === 0 || !results.every(isFailure)) return undefined;
    const codes = new Set(results.map((r) => (r as SecretFailure).code));
    if (codes.size !== 1) return undefined;
    const first = results[0] as SecretFailure;
    if (first.code === 'ResourceNotFoundException') return undefined;
    return new SourceError(first.code, first.transient);
  }

  function split(results: readonly (SecretRecord | SecretFailure)[]): LoadResult {
    const records: SecretRecord[] = [];
    const failures: SecretFailure[] = [];
    for (const r of results) (isFailure(r) ? failures : records).push(r as never);
    return { records, failures };
  }

  return {
    kind: 'aws',
    description: 'AWS Secrets Manager',
    region,
    async load(entries, signal) {
      if (entries.length === 0) return { records: [], failures: [] };
      if (batchDenied) {
        const results = await eachSingle(entries, signal);
        const whole = wholeFailure(results);
        if (whole) throw whole;
        return split(results);
      }
      const results: (SecretRecord | SecretFailure)[] = [];
      let firstError: unknown;
      const settled = await Promise.allSettled(chunks(entries, BATCH_SIZE).map((c) => batch(c, signal)));
      for (const [i, s] of settled.entries()) {
        if (s.status === 'fulfilled') {
          results.push(...s.value);
          continue;
        }
        const { code, transient } = classifyAwsError(s.reason);
        if (code === 'AccessDeniedException' && !signal.aborted) {
          // Denied the batch call itself: fall back to one call per secret, and keep doing so.
          if (!batchDenied) {
            batchDenied = true;
            logger.warn(
              { event: 'secrets.batch_denied', code },
              'BatchGetSecretValue denied; falling back to GetSecretValue per secret',
            );
          }
          results.push(...(await eachSingle(chunks(entries, BATCH_SIZE)[i]!, signal)));
          continue;
        }
        firstError ??= s.reason;
        for (const e of chunks(entries, BATCH_SIZE)[i]!) results.push({ name: e.name, code, transient });
      }
      signal.throwIfAborted();
      const whole = wholeFailure(results);
      if (whole) throw new SourceError(whole.sourceCode, whole.transient, { cause: firstError });
      return split(results);
    },
    async loadPrevious(entries, signal) {
      return split(await eachSingle(entries, signal, 'AWSPREVIOUS'));
    },
  };
}
