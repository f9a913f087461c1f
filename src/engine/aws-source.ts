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
import { withDeadline } from './deadline.js';
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

/**
 * How long one region may take inside an attempt when another region follows it, so a primary
 * that hangs leaves the rest of the attempt's deadline (8 s by default) to a replica.
 */
export const DEFAULT_REGION_TIMEOUT_MS = 3_000;

/** One Secrets Manager call, for metrics: `outcome` is `ok` or the error code. Never a value. */
export interface AwsCall {
  readonly operation: AwsOperation;
  readonly outcome: string;
  /** The region the call went to. */
  readonly region: string;
}

/** One region to read: its name and a client bound to it. */
export interface AwsRegionClient {
  readonly region: string;
  readonly client: SecretsManagerClient;
}

interface AwsSourceCommonOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Called after every Secrets Manager call the source makes; cheap, and never on a read path. */
  readonly onCall?: (call: AwsCall) => void;
  readonly batchRetryMs?: number;
  readonly batchThrottledRetryMs?: number;
  /** A region's share of an attempt when another region follows (see DEFAULT_REGION_TIMEOUT_MS). */
  readonly regionTimeoutMs?: number;
}

/**
 * One region (`client` and `region`), or an ordered list of regions: the primary first, then the
 * replicas in order of preference (AWS_REGION, then SECRETS_REPLICA_REGIONS).
 */
export type AwsSourceOptions = AwsSourceCommonOptions &
  (
    | { readonly client: SecretsManagerClient; readonly region: string; readonly regions?: undefined }
    | { readonly regions: readonly [AwsRegionClient, ...AwsRegionClient[]]; readonly client?: undefined; readonly region?: undefined }
  );

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
 *
 * With several regions, every load tries the primary first (so the source returns to it on its
 * first success) and moves on to the next region only when a region fails whole and transiently
 * (network error, timeout, 5xx, throttling), within the same attempt's deadline. Denial, a
 * missing secret and a validation failure do not move on: a replica shares the policy, the name
 * and the value. Each answer says which region it came from (`LoadResult.region`).
 */
export function createAwsSource(options: AwsSourceOptions): SecretSource {
  const {
    logger = silentLogger,
    clock = systemClock,
    onCall,
    batchRetryMs = DEFAULT_BATCH_RETRY_MS,
    batchThrottledRetryMs = DEFAULT_BATCH_THROTTLED_RETRY_MS,
    regionTimeoutMs = DEFAULT_REGION_TIMEOUT_MS,
  } = options;
  const regions: readonly AwsRegionClient[] = options.regions ?? [{ region: options.region, client: options.client }];
  const primary = regions[0]!;
  let batchDeniedUntilMs = Number.NEGATIVE_INFINITY;

  function report(operation: AwsOperation, outcome: string, region: string): void {
    try {
      onCall?.({ operation, outcome, region });
    } catch {
      // An observer (metrics) must never break a load.
    }
  }

  async function call<T>(r: AwsRegionClient, operation: AwsOperation, send: () => Promise<T>): Promise<T> {
    try {
      const out = await send();
      report(operation, 'ok', r.region);
      return out;
    } catch (err) {
      report(operation, classifyAwsError(err).code, r.region);
      throw err;
    }
  }

  async function batch(r: AwsRegionClient, entries: readonly CatalogEntry[], signal: AbortSignal): Promise<Result[]> {
    const nameOf = awsIdIndex(entries);
    const command = new BatchGetSecretValueCommand({ SecretIdList: entries.map((e) => e.awsId) });
    const out = await call(r, 'BatchGetSecretValue', () => r.client.send(command, { abortSignal: signal }));
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

  async function single(r: AwsRegionClient, entry: CatalogEntry, signal: AbortSignal, stage: string): Promise<Result> {
    try {
      const command = new GetSecretValueCommand({ SecretId: entry.awsId, ...(stage !== CURRENT_STAGE && { VersionStage: stage }) });
      return toResult(entry.name, await call(r, 'GetSecretValue', () => r.client.send(command, { abortSignal: signal })), stage);
    } catch (err) {
      if (signal.aborted) throw err;
      const { code, transient } = classifyAwsError(err);
      return { name: entry.name, code, transient };
    }
  }

  async function eachSingle(r: AwsRegionClient, entries: readonly CatalogEntry[], signal: AbortSignal, stage: string): Promise<Result[]> {
    const results: Result[] = [];
    for (const group of chunks(entries, BATCH_SIZE)) {
      signal.throwIfAborted();
      results.push(...(await Promise.all(group.map((e) => single(r, e, signal, stage)))));
    }
    return results;
  }

  /** One group's results, and the error that failed the whole group, if one did (kept as a cause). */
  async function batchOrFallback(r: AwsRegionClient, group: readonly CatalogEntry[], signal: AbortSignal): Promise<{ results: Result[]; error?: unknown }> {
    try {
      return { results: await batch(r, group, signal) };
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
      return { results: await eachSingle(r, group, signal, CURRENT_STAGE) };
    }
  }

  async function loadIndividuallyIn(r: AwsRegionClient, entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    const results = await eachSingle(r, entries, signal, CURRENT_STAGE);
    const whole = wholeFailure(results);
    if (whole) throw whole;
    return split(results);
  }

  async function loadIn(r: AwsRegionClient, entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
    if (clock.now() < batchDeniedUntilMs) return loadIndividuallyIn(r, entries, signal);
    const groups = await Promise.all(chunks(entries, BATCH_SIZE).map((group) => batchOrFallback(r, group, signal)));
    signal.throwIfAborted();
    const results = groups.flatMap((g) => g.results);
    const whole = wholeFailure(results, groups.find((g) => g.error !== undefined)?.error);
    if (whole) throw whole;
    return split(results);
  }

  /** Never fails whole in the last region: a missing previous value costs a grace window, not the attempt. */
  async function loadPreviousIn(r: AwsRegionClient, entries: readonly CatalogEntry[], signal: AbortSignal, last: boolean): Promise<LoadResult> {
    const results = await eachSingle(r, entries, signal, PREVIOUS_STAGE);
    const whole = last ? undefined : wholeFailure(results);
    if (whole?.transient) throw whole;
    return split(results);
  }

  /**
   * Runs `read` in each region in order until one answers: the primary first, the next region
   * only after a whole, transient failure. Every region but the last gets `regionTimeoutMs` of
   * the attempt; the last gets what is left. The first region's error is the one reported when
   * every region failed transiently.
   */
  async function acrossRegions(
    read: (r: AwsRegionClient, signal: AbortSignal, last: boolean) => Promise<LoadResult>,
    signal: AbortSignal,
    fromRegion?: string,
  ): Promise<LoadResult> {
    let firstError: unknown;
    const start = Math.max(0, regions.findIndex((r) => r.region === fromRegion));
    for (const [i, r] of regions.entries()) {
      if (i < start) continue;
      const last = i === regions.length - 1;
      try {
        const result = last
          ? await read(r, signal, true)
          : await withDeadline((regionSignal) => read(r, AbortSignal.any([signal, regionSignal]), false), {
              timeoutMs: regionTimeoutMs,
              clock,
              error: () => new SourceError('RegionTimeout', true),
            });
        return { ...result, region: r.region };
      } catch (err) {
        if (signal.aborted) throw err;
        const transient = err instanceof SourceError ? err.transient : classifyAwsError(err).transient;
        if (!transient) throw err;
        firstError ??= err;
        if (last) throw firstError;
        const next = regions[i + 1]!;
        const code = err instanceof SourceError ? err.sourceCode : classifyAwsError(err).code;
        logger.warn({ event: 'secrets.region_unavailable', region: r.region, next: next.region, code }, `Secrets Manager in ${r.region} failed; trying ${next.region}`);
      }
    }
    throw firstError;
  }

  return {
    kind: 'aws',
    description: 'AWS Secrets Manager',
    region: primary.region,
    regions: regions.map((r) => r.region),
    async load(entries, signal) {
      if (entries.length === 0) return { records: [], failures: [] };
      return acrossRegions((r, s) => loadIn(r, entries, s), signal);
    },
    loadIndividually: (entries, signal) => acrossRegions((r, s) => loadIndividuallyIn(r, entries, s), signal),
    loadPrevious: (entries, signal, fromRegion) => acrossRegions((r, s, last) => loadPreviousIn(r, entries, s, last), signal, fromRegion),
  };
}
