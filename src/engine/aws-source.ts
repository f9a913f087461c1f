import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { awsIdIndex, type CatalogEntry } from './catalog.js';
import { classifyAwsError, isThrottlingCode } from './aws-error.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { SourceError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { LoadResult, SecretFailure, SecretRecord, SecretSource } from './source.js';
import { CURRENT_STAGE, PREVIOUS_STAGE } from './source.js';

/** BatchGetSecretValue takes at most 20 ids a call; the per-secret fallback runs as many at once. */
export const BATCH_SIZE = 20;
/** After BatchGetSecretValue was denied, how long to use GetSecretValue per secret before trying it again. */
export const DEFAULT_BATCH_RETRY_MS = 60 * 60 * 1000;
/**
 * After BatchGetSecretValue was throttled (its quota, 100 calls a second per region, cannot be
 * raised; a fleet starting at once exceeds it), how long to use GetSecretValue per secret, whose
 * quota is 100 times larger, before trying the batch again: longer than a start-up deadline
 * sized for 100,000 instances (240 s), so a fleet still starting does not go back to the batch.
 */
export const DEFAULT_BATCH_THROTTLED_RETRY_MS = 5 * 60_000;

export type AwsOperation = 'BatchGetSecretValue' | 'GetSecretValue';

/** One Secrets Manager call, for metrics: `outcome` is `ok` or the error code. Never a value. */
export interface AwsCall {
  readonly operation: AwsOperation;
  readonly outcome: string;
}

export interface AwsSourceOptions {
  readonly client: SecretsManagerClient;
  readonly region: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Called after every Secrets Manager call the source makes; cheap, and never on a read path. */
  readonly onCall?: (call: AwsCall) => void;
  readonly batchRetryMs?: number;
  readonly batchThrottledRetryMs?: number;
}

/** What BatchGetSecretValue and GetSecretValue both return for one secret. */
type ValueEntry = Pick<SecretValueEntry, 'Name' | 'ARN' | 'SecretString' | 'VersionId' | 'VersionStages' | 'CreatedDate'>;
type Result = SecretRecord | SecretFailure;

/**
 * A value stands for the stage it was asked for only if it carries that label: an answer that
 * does not (a stale replica, a label moved in between) is reported, and the cached value kept.
 */
function toResult(name: string, v: ValueEntry, stage: string): Result {
  if (!(v.VersionStages ?? []).includes(stage)) {
    return { name, code: stage === CURRENT_STAGE ? 'NotCurrentVersion' : 'NotPreviousVersion', transient: true };
  }
  // Binary secrets are out of the catalog's scope; say so by code rather than load garbage.
  if (typeof v.SecretString !== 'string') return { name, code: 'SecretStringMissing', transient: false };
  return {
    name,
    raw: v.SecretString,
    ...(v.VersionId !== undefined && { versionId: v.VersionId }),
    ...(v.CreatedDate !== undefined && { createdAtMs: v.CreatedDate.getTime() }),
    stages: v.VersionStages!,
  };
}

const isFailure = (r: Result): r is SecretFailure => 'code' in r;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function split(results: readonly Result[]): LoadResult {
  const records: SecretRecord[] = [];
  const failures: SecretFailure[] = [];
  for (const r of results) {
    if (isFailure(r)) failures.push(r);
    else records.push(r);
  }
  return { records, failures };
}

/** All failed the same way: the source as a whole is down or denied, not these secrets. */
function wholeFailure(results: readonly Result[], cause?: unknown): SourceError | undefined {
  const codes = new Set(results.map((r) => (isFailure(r) ? r.code : undefined)));
  const first = results[0];
  if (codes.size !== 1 || first === undefined || !isFailure(first) || first.code === 'ResourceNotFoundException') return undefined;
  return new SourceError(first.code, first.transient, { cause });
}

/**
 * AWS mode: the catalog in one BatchGetSecretValue call per 20 secrets. Where the batch call is
 * denied (a role with GetSecretValue on the secrets but no BatchGetSecretValue on `*`, or IAM
 * still propagating at boot) or throttled (a fleet starting at once), it falls back to
 * GetSecretValue per secret, all at once so the fallback stays one round trip inside the attempt's
 * deadline, and tries the batch again after `batchRetryMs` (denied) or `batchThrottledRetryMs`.
 */
export function createAwsSource(options: AwsSourceOptions): SecretSource {
  const {
    client,
    region,
    logger = silentLogger,
    clock = systemClock,
    onCall,
    batchRetryMs = DEFAULT_BATCH_RETRY_MS,
    batchThrottledRetryMs = DEFAULT_BATCH_THROTTLED_RETRY_MS,
  } = options;
  let batchDeniedUntilMs = Number.NEGATIVE_INFINITY;

  function report(operation: AwsOperation, outcome: string): void {
    try {
      onCall?.({ operation, outcome });
    } catch {
      // An observer (metrics) must never break a load.
    }
  }

  async function call<T>(operation: AwsOperation, send: () => Promise<T>): Promise<T> {
    try {
      const out = await send();
      report(operation, 'ok');
      return out;
    } catch (err) {
      report(operation, classifyAwsError(err).code);
      throw err;
    }
  }

  async function batch(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<Result[]> {
    const nameOf = awsIdIndex(entries);
    const command = new BatchGetSecretValueCommand({ SecretIdList: entries.map((e) => e.awsId) });
    const out = await call('BatchGetSecretValue', () => client.send(command, { abortSignal: signal }));
    const results: Result[] = [];
    const seen = new Set<string>();
    const take = (name: string | undefined, result: (name: string) => Result) => {
      if (name === undefined || seen.has(name)) return;
      seen.add(name);
      results.push(result(name));
    };
    for (const v of out.SecretValues ?? []) take(nameOf(v.Name ?? '') ?? nameOf(v.ARN ?? ''), (name) => toResult(name, v, CURRENT_STAGE));
    for (const err of out.Errors ?? []) {
      const { code, transient } = classifyAwsError({ name: err.ErrorCode });
      take(nameOf(err.SecretId ?? ''), (name) => ({ name, code, transient }));
    }
    // A secret the answer does not mention at all is a fault of the answer, not a missing secret.
    for (const e of entries) if (!seen.has(e.name)) results.push({ name: e.name, code: 'MissingFromBatch', transient: true });
    return results;
  }

  async function single(entry: CatalogEntry, signal: AbortSignal, stage: string): Promise<Result> {
    try {
      const command = new GetSecretValueCommand({ SecretId: entry.awsId, ...(stage !== CURRENT_STAGE && { VersionStage: stage }) });
      return toResult(entry.name, await call('GetSecretValue', () => client.send(command, { abortSignal: signal })), stage);
    } catch (err) {
      if (signal.aborted) throw err;
      const { code, transient } = classifyAwsError(err);
      return { name: entry.name, code, transient };
    }
  }

  async function eachSingle(entries: readonly CatalogEntry[], signal: AbortSignal, stage: string): Promise<Result[]> {
    const results: Result[] = [];
    for (const group of chunks(entries, BATCH_SIZE)) {
      signal.throwIfAborted();
      results.push(...(await Promise.all(group.map((e) => single(e, signal, stage)))));
    }
    return results;
  }

  /** One group's results, and the error that failed the whole group, if one did (kept as a cause). */
  async function batchOrFallback(group: readonly CatalogEntry[], signal: AbortSignal): Promise<{ results: Result[]; error?: unknown }> {
    try {
      return { results: await batch(group, signal) };
    } catch (err) {
      const { code, transient } = classifyAwsError(err);
      const throttled = isThrottlingCode(code);
      if ((code !== 'AccessDeniedException' && !throttled) || signal.aborted) return { results: group.map((e) => ({ name: e.name, code, transient })), error: err };
      const retryBatchInMs = throttled ? batchThrottledRetryMs : batchRetryMs;
      if (clock.now() >= batchDeniedUntilMs) {
        logger.warn(
          { event: throttled ? 'secrets.batch_throttled' : 'secrets.batch_denied', code, retryBatchInMs },
          `BatchGetSecretValue ${throttled ? 'throttled' : 'denied'}; falling back to GetSecretValue per secret`,
        );
      }
      batchDeniedUntilMs = Math.max(batchDeniedUntilMs, clock.now() + retryBatchInMs);
      return { results: await eachSingle(group, signal, CURRENT_STAGE) };
    }
  }

  async function loadIndividually(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    const results = await eachSingle(entries, signal, CURRENT_STAGE);
    const whole = wholeFailure(results);
    if (whole) throw whole;
    return split(results);
  }

  return {
    kind: 'aws',
    description: 'AWS Secrets Manager',
    region,
    async load(entries, signal) {
      if (entries.length === 0) return { records: [], failures: [] };
      if (clock.now() < batchDeniedUntilMs) return loadIndividually(entries, signal);
      const groups = await Promise.all(chunks(entries, BATCH_SIZE).map((group) => batchOrFallback(group, signal)));
      signal.throwIfAborted();
      const results = groups.flatMap((g) => g.results);
      const whole = wholeFailure(results, groups.find((g) => g.error !== undefined)?.error);
      if (whole) throw whole;
      return split(results);
    },
    loadIndividually,
    async loadPrevious(entries, signal) {
      return split(await eachSingle(entries, signal, PREVIOUS_STAGE));
    },
  };
}
