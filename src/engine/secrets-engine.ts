import type { Catalog, CatalogEntry, CatalogSpec, SecretName, SecretValue } from './catalog.js';
import type { BackoffPolicy } from './backoff.js';
import { backoffDelayMs, defaultBackoff, jitteredRefreshDelayMs } from './backoff.js';
import { classifyAwsError } from './aws-error.js';
import type { Clock, TimerHandle } from './clock.js';
import { systemClock } from './clock.js';
import { MissingSecretsError, SecretsError, SourceError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { SecretFailure, SecretRecord, SecretSource } from './source.js';
import { IMMEDIATE_ROTATION_STAGE } from './source.js';
import type { EngineStatus, SecretStatus } from './status.js';

export const DEFAULT_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_GRACE_MS = 15 * 60 * 1000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 8_000;

export interface SecretsEngineOptions<C extends CatalogSpec> {
  readonly catalog: Catalog<C>;
  readonly source: SecretSource;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How long a loaded snapshot is fresh. The scheduled refresh falls in [ttlMs/2, ttlMs]. */
  readonly ttlMs?: number;
  /** How long after a rotation (the new version's creation) the previous value stays accepted. */
  readonly graceMs?: number;
  /** Deadline of one whole refresh attempt, however the source behaves. */
  readonly attemptTimeoutMs?: number;
  readonly backoff?: BackoffPolicy;
  /**
   * false: no timers refresh in the background; only the first read after expiry (or an explicit
   * `refresh()`) does. For hosts that freeze between requests, such as Lambda.
   */
  readonly autoRefresh?: boolean;
  readonly random?: () => number;
}

export type RefreshReason = 'startup' | 'scheduled' | 'expired-read' | 'retry' | 'forced';

export interface ChangedSecret {
  readonly name: string;
  readonly versionId?: string;
  readonly previousVersionId?: string;
}

export type RefreshOutcome =
  | { readonly ok: true; readonly reason: RefreshReason; readonly changed: readonly ChangedSecret[]; readonly failed: readonly SecretFailure[] }
  | { readonly ok: false; readonly reason: RefreshReason; readonly code: string; readonly transient: boolean };

/** One secret in a snapshot. Never leaves the engine except through get() and accepted(). */
interface Slot {
  readonly value: unknown;
  readonly raw: string | undefined;
  readonly fromDefault: boolean;
  readonly versionId: string | undefined;
  readonly stages: readonly string[];
  /** Start of the previous value's grace window: the version's creation, or when we first saw it. */
  readonly sinceMs: number;
  readonly previous: { readonly raw: string; readonly versionId: string | undefined } | undefined;
  readonly changedAtMs: number;
  readonly errorCode: string | undefined;
  readonly invalidReason?: string;
}

/** A value and its read count; the count is carried over to the next snapshot's cell at the swap. */
interface Cell {
  readonly value: unknown;
  reads: number;
}

interface Snapshot {
  /** The hot path reads only this map: one lookup gives the value and the read counter. */
  readonly cells: ReadonlyMap<string, Cell>;
  readonly slots: ReadonlyMap<string, Slot>;
  readonly loadedAtMs: number;
}

/**
 * The secrets engine: a typed, synchronous view of the catalog over an immutable snapshot that a
 * background refresh swaps whole. No read waits on the source; a failed refresh keeps every
 * cached value; one refresh runs at a time.
 */
export class SecretsEngine<C extends CatalogSpec> {
  readonly catalog: Catalog<C>;
  readonly ttlMs: number;
  readonly graceMs: number;
  private readonly source: SecretSource;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly attemptTimeoutMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly autoRefresh: boolean;
  private readonly random: () => number;

  private snapshot: Snapshot = { cells: new Map(), slots: new Map(), loadedAtMs: 0 };
  /** Set by the expiry timer; the only thing a read checks besides the map. */
  private expired = false;
  private initialized = false;
  private closed = false;
  private inFlight: Promise<RefreshOutcome> | undefined;
  private timer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private consecutiveFailures = 0;
  private lastAttemptMs: number | undefined;
  private lastSuccessMs: number | undefined;
  private lastErrorCode: string | undefined;
  private nextRefreshAtMs: number | undefined;
  private readonly listeners = new Set<(outcome: RefreshOutcome) => void>();

  constructor(options: SecretsEngineOptions<C>) {
    this.catalog = options.catalog;
    this.source = options.source;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.ttlMs = positive('ttlMs', options.ttlMs ?? DEFAULT_TTL_MS);
    this.graceMs = nonNegative('graceMs', options.graceMs ?? DEFAULT_GRACE_MS);
    this.attemptTimeoutMs = positive('attemptTimeoutMs', options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS);
    this.backoff = options.backoff ?? defaultBackoff;
    this.autoRefresh = options.autoRefresh ?? true;
    this.random = options.random ?? Math.random;
  }

  /**
   * Loads everything once. Throws MissingSecretsError naming every required secret that is
   * missing or invalid (never a value), or SourceError when the source cannot be read at all.
   */
  async initialize(): Promise<void> {
    if (this.closed) throw new SecretsError('SECRETS_CLOSED', 'Secrets engine is closed');
    if (this.initialized) return;
    this.logger.info(
      { event: 'secrets.initializing', source: this.source.kind, region: this.source.region },
      `Loading secrets from ${this.source.description}`,
    );
    const outcome = await this.runAttempt('startup', true);
    if (!outcome.ok) throw new SourceError(outcome.code, outcome.transient);
    const problems = this.catalog.entries.flatMap(({ name, spec }) => {
      const slot = this.snapshot.slots.get(name);
      if (!spec.required || slot?.raw !== undefined) return [];
      const reason = slot?.invalidReason !== undefined ? `invalid: ${slot.invalidReason}` : describeProblem(slot?.errorCode);
      return [{ name, reason }];
    });
    if (problems.length > 0) {
      this.cancelTimers();
      this.logger.error({ event: 'secrets.missing_required', names: problems.map((p) => p.name) }, 'Required secrets missing or invalid');
      throw new MissingSecretsError(problems);
    }
    this.initialized = true;
    this.logger.info(
      { event: 'secrets.loaded', source: this.source.kind, count: this.loadedCount() },
      `Loaded ${this.loadedCount()} secrets from ${this.source.description}`,
    );
  }

  /** The current value: synchronous, from memory, never waiting on the source. */
  get<K extends SecretName<C>>(name: K): SecretValue<C[K]> {
    if (this.expired) this.onExpiredRead();
    const cell = this.snapshot.cells.get(name);
    if (cell === undefined) throw this.noCell(name);
    cell.reads++;
    return cell.value as SecretValue<C[K]>;
  }

  /**
   * Values a presented credential may match: the current one, and the previous one while its
   * grace window is open (unless the rotation was marked immediate). Compare against every
   * element in constant time.
   */
  accepted(name: SecretName<C>): readonly string[] {
    const slot = this.snapshot.slots.get(name);
    if (slot?.raw === undefined) return [];
    if (!this.previousAccepted(name, slot)) return [slot.raw];
    return [slot.raw, slot.previous!.raw];
  }

  /** Runs a refresh now, or joins the one in flight. Never rejects: the outcome says how it went. */
  refresh(): Promise<RefreshOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'forced', code: 'Closed', transient: false });
    this.logger.info({ event: 'secrets.refresh_forced', joined: this.inFlight !== undefined }, 'Forced secrets refresh');
    return this.startRefresh('forced');
  }

  /** Called after every refresh attempt, e.g. to reconnect a pool whose URL changed. */
  onRefresh(listener: (outcome: RefreshOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): EngineStatus {
    const now = this.clock.now();
    const secrets: Record<string, SecretStatus> = {};
    let requiredOk = true;
    for (const { name, spec } of this.catalog.entries) {
      const slot = this.snapshot.slots.get(name);
      const loaded = slot !== undefined && slot.value !== undefined;
      if (spec.required && slot?.raw === undefined) requiredOk = false;
      secrets[name] = {
        loaded,
        required: spec.required,
        hasDefault: spec.default !== undefined,
        usingDefault: slot?.fromDefault ?? false,
        versionId: slot?.versionId ?? null,
        lastChanged: slot && slot.raw !== undefined ? new Date(slot.changedAtMs).toISOString() : null,
        lastErrorCode: slot?.errorCode ?? null,
        previousAccepted: slot !== undefined && this.previousAccepted(name, slot),
        reads: this.snapshot.cells.get(name)?.reads ?? 0,
      };
    }
    const cacheAgeMs = this.lastSuccessMs === undefined ? null : now - this.lastSuccessMs;
    return {
      initialized: this.initialized,
      source: this.source.kind,
      sourceDescription: this.source.description,
      region: this.source.region ?? null,
      secretsLoaded: this.loadedCount(),
      totalSecrets: this.catalog.entries.length,
      requiredSecretsOk: this.initialized && requiredOk,
      cacheAgeMs,
      cacheExpired: cacheAgeMs === null || cacheAgeMs >= this.ttlMs,
      ttlMs: this.ttlMs,
      lastRefresh: this.lastSuccessMs === undefined ? null : new Date(this.lastSuccessMs).toISOString(),
      lastAttempt: this.lastAttemptMs === undefined ? null : new Date(this.lastAttemptMs).toISOString(),
      nextRefresh: this.nextRefreshAtMs === undefined ? null : new Date(this.nextRefreshAtMs).toISOString(),
      lastErrorCode: this.lastErrorCode ?? null,
      consecutiveFailures: this.consecutiveFailures,
      refreshing: this.inFlight !== undefined,
      secrets,
    };
  }

  /** Stops timers; a refresh in flight finishes but schedules nothing. Values stay readable. */
  close(): void {
    this.closed = true;
    this.cancelTimers();
  }

  private noCell(name: string): SecretsError {
    return this.catalog.entry(name) === undefined
      ? new SecretsError('SECRETS_INVALID_CONFIG', `Unknown secret ${JSON.stringify(name.slice(0, 64))}: not in the catalog`)
      : new SecretsError('SECRETS_NOT_INITIALIZED', `Secret ${name} read before initialize() finished`);
  }

  private loadedCount(): number {
    let n = 0;
    for (const slot of this.snapshot.slots.values()) if (slot.value !== undefined) n++;
    return n;
  }

  private previousAccepted(name: string, slot: Slot): boolean {
    return (
      slot.previous !== undefined &&
      this.catalog.entry(name)?.spec.acceptsPrevious === true &&
      !slot.stages.includes(IMMEDIATE_ROTATION_STAGE) &&
      this.clock.now() < slot.sinceMs + this.graceMs
    );
  }

  private onExpiredRead(): void {
    this.expired = false;
    // During backoff the retry timer owns the next attempt: reads must not hammer a failing store.
    if (this.closed || this.inFlight !== undefined || this.consecutiveFailures > 0) return;
    this.logger.warn({ event: 'secrets.cache_expired' }, 'Secret cache expired, triggering refresh');
    void this.startRefresh('expired-read');
  }

  private startRefresh(reason: RefreshReason): Promise<RefreshOutcome> {
    this.inFlight ??= this.runAttempt(reason, false).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runAttempt(reason: RefreshReason, startup: boolean): Promise<RefreshOutcome> {
    this.timer?.cancel();
    this.timer = undefined;
    this.nextRefreshAtMs = undefined;
    this.lastAttemptMs = this.clock.now();
    let outcome: RefreshOutcome;
    try {
      outcome = await this.withDeadline((signal) => this.loadSnapshot(reason, signal));
    } catch (err) {
      const { code, transient } = err instanceof SourceError ? { code: err.sourceCode, transient: err.transient } : classifyAwsError(err);
      outcome = { ok: false, reason, code, transient };
    }
    this.afterAttempt(outcome, startup);
    return outcome;
  }

  /** Bounds one attempt whatever the source does: the deadline aborts it and settles the race. */
  private async withDeadline<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: TimerHandle | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => {
        const err = new SourceError('AttemptTimeout', true);
        controller.abort(err);
        reject(err);
      }, this.attemptTimeoutMs);
    });
    try {
      return await Promise.race([work(controller.signal), deadline]);
    } finally {
      timer?.cancel();
    }
  }

  private async loadSnapshot(reason: RefreshReason, signal: AbortSignal): Promise<RefreshOutcome> {
    const entries = this.catalog.entries;
    const result = await this.source.load(entries, signal);
    const records = new Map(result.records.map((r) => [r.name, r]));
    const previous = await this.loadPreviousWhereNeeded(result.records, signal);
    const now = this.clock.now();
    const old = this.snapshot;
    const failures = [...result.failures];
    const slots = new Map<string, Slot>();
    const changed: ChangedSecret[] = [];

    for (const entry of entries) {
      const before = old.slots.get(entry.name);
      const record = records.get(entry.name);
      const failure = result.failures.find((f) => f.name === entry.name);
      let slot: Slot;
      if (record !== undefined) {
        const parsed = entry.spec.kind.parse(record.raw);
        if (parsed.ok) {
          slot = this.slotFor(entry, record, parsed.value, before, previous.get(entry.name), now);
        } else {
          // The parser's reason names what was expected, never the value.
          failures.push({ name: entry.name, code: 'InvalidValue', transient: false, reason: parsed.reason });
          slot = { ...this.keepOrDefault(entry, before, 'InvalidValue'), invalidReason: parsed.reason };
        }
      } else {
        slot = this.keepOrDefault(entry, before, failure?.code ?? 'MissingFromSource');
      }
      if (before?.raw !== slot.raw || before?.versionId !== slot.versionId) {
        if (before !== undefined || slot.raw !== undefined) {
          changed.push({
            name: entry.name,
            ...(slot.versionId !== undefined && { versionId: slot.versionId }),
            ...(before?.versionId !== undefined && { previousVersionId: before.versionId }),
          });
        }
      }
      slots.set(entry.name, slot);
    }
    signal.throwIfAborted();
    // Synchronous from here to the swap, so no read's count is lost between copy and swap.
    const cells = new Map([...slots].map(([n, s]) => [n, { value: s.value, reads: old.cells.get(n)?.reads ?? 0 }]));
    this.snapshot = { cells, slots, loadedAtMs: now };
    this.report(reason, failures, old.loadedAtMs === 0 ? [] : changed);
    return { ok: true, reason, changed: old.loadedAtMs === 0 ? [] : changed, failed: failures };
  }

  /**
   * AWSPREVIOUS costs one GetSecretValue per secret, so it is fetched only for secrets that
   * accept it, whose current version is new to us, and whose grace window is still open.
   */
  private async loadPreviousWhereNeeded(records: readonly SecretRecord[], signal: AbortSignal) {
    const now = this.clock.now();
    const want: CatalogEntry[] = [];
    for (const r of records) {
      const entry = this.catalog.entry(r.name);
      const before = this.snapshot.slots.get(r.name);
      if (!entry?.spec.acceptsPrevious || r.previous !== undefined || !this.source.loadPrevious) continue;
      if (before !== undefined && before.versionId === r.versionId) continue;
      if ((r.stages ?? []).includes(IMMEDIATE_ROTATION_STAGE)) continue;
      if ((r.createdAtMs ?? now) + this.graceMs <= now) continue;
      want.push(entry);
    }
    const found = new Map<string, { raw: string; versionId: string | undefined }>();
    if (want.length === 0 || !this.source.loadPrevious) return found;
    const result = await this.source.loadPrevious(want, signal);
    for (const r of result.records) found.set(r.name, { raw: r.raw, versionId: r.versionId });
    for (const f of result.failures) {
      if (f.code !== 'ResourceNotFoundException') {
        this.logger.warn({ event: 'secrets.previous_failed', name: f.name, code: f.code }, 'Could not load previous version');
      }
    }
    return found;
  }

  private slotFor(
    entry: CatalogEntry,
    record: SecretRecord,
    value: unknown,
    before: Slot | undefined,
    fetchedPrevious: { raw: string; versionId: string | undefined } | undefined,
    now: number,
  ): Slot {
    const same = before?.raw === record.raw && before.versionId === record.versionId;
    const previous =
      record.previous !== undefined
        ? { raw: record.previous.raw, versionId: record.previous.versionId }
        : same
          ? before.previous
          : (fetchedPrevious ??
            // Seen change within one process: what we held is the previous value.
            (before?.raw !== undefined && !before.fromDefault ? { raw: before.raw, versionId: before.versionId } : undefined));
    return {
      value,
      raw: record.raw,
      fromDefault: false,
      versionId: record.versionId,
      stages: record.stages ?? [],
      sinceMs: same ? before.sinceMs : (record.createdAtMs ?? now),
      previous: entry.spec.acceptsPrevious ? previous : undefined,
      changedAtMs: same ? before.changedAtMs : (record.createdAtMs ?? now),
      errorCode: undefined,
    };
  }

  /** A secret that failed keeps its last good value; never replaced by an empty one. */
  private keepOrDefault(entry: CatalogEntry, before: Slot | undefined, code: string): Slot {
    if (before !== undefined && before.raw !== undefined) return { ...before, errorCode: code === 'NotSet' ? undefined : code };
    const hasDefault = entry.spec.default !== undefined;
    return {
      value: entry.spec.default,
      raw: undefined,
      fromDefault: hasDefault,
      versionId: undefined,
      stages: [],
      sinceMs: 0,
      previous: undefined,
      changedAtMs: 0,
      errorCode: isAbsence(code) ? undefined : code,
    };
  }

  private report(reason: RefreshReason, failures: readonly SecretFailure[], changed: readonly ChangedSecret[]): void {
    for (const f of failures) {
      const entry = this.catalog.entry(f.name);
      const hadValue = this.snapshot.slots.get(f.name)?.raw !== undefined;
      if (isAbsence(f.code) && !hadValue && !entry?.spec.required) continue; // optional and unset: fine
      const level = f.transient ? 'warn' : 'error';
      this.logger[level](
        { event: 'secrets.secret_failed', name: f.name, code: f.code, reason: f.reason, keptCachedValue: hadValue },
        hadValue ? 'Secret could not be refreshed; keeping cached value' : 'Secret could not be loaded',
      );
    }
    if (reason !== 'startup') {
      this.logger.info(
        { event: 'secrets.refreshed', reason, changed: changed.map((c) => ({ name: c.name, versionId: c.versionId ?? null })) },
        changed.length > 0 ? `Secrets refreshed; changed: ${changed.map((c) => c.name).join(', ')}` : 'Secrets refreshed; nothing changed',
      );
    }
  }

  private afterAttempt(outcome: RefreshOutcome, startup: boolean): void {
    const now = this.clock.now();
    if (outcome.ok) {
      const transientFailure = outcome.failed.some((f) => f.transient);
      this.lastSuccessMs = now;
      this.lastErrorCode = outcome.failed.find((f) => !isAbsence(f.code))?.code;
      this.expired = false;
      if (!transientFailure) this.consecutiveFailures = 0;
      else this.consecutiveFailures++;
      this.scheduleExpiry(this.ttlMs);
      this.schedule(transientFailure ? backoffDelayMs(this.backoff, this.consecutiveFailures, this.random) : jitteredRefreshDelayMs(this.ttlMs, this.random));
    } else {
      this.consecutiveFailures++;
      this.lastErrorCode = outcome.code;
      this.logger[outcome.transient ? 'warn' : 'error'](
        { event: 'secrets.refresh_failed', reason: outcome.reason, code: outcome.code, consecutiveFailures: this.consecutiveFailures },
        startup ? 'Loading secrets failed' : 'Background secret refresh failed; keeping cached values',
      );
      if (!startup) this.schedule(backoffDelayMs(this.backoff, this.consecutiveFailures, this.random));
    }
    for (const listener of this.listeners) {
      try {
        listener(outcome);
      } catch (err) {
        this.logger.error({ event: 'secrets.listener_failed', code: classifyAwsError(err).code }, 'Refresh listener threw');
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.autoRefresh) return;
    this.timer?.cancel();
    this.nextRefreshAtMs = this.clock.now() + delayMs;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.startRefresh(this.consecutiveFailures > 0 ? 'retry' : 'scheduled');
    }, delayMs);
  }

  private scheduleExpiry(delayMs: number): void {
    if (this.closed) return;
    this.expiryTimer?.cancel();
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = undefined;
      this.expired = true;
    }, delayMs);
  }

  private cancelTimers(): void {
    this.timer?.cancel();
    this.expiryTimer?.cancel();
    this.timer = undefined;
    this.expiryTimer = undefined;
    this.nextRefreshAtMs = undefined;
  }
}

function isAbsence(code: string): boolean {
  return code === 'NotSet' || code === 'ResourceNotFoundException';
}

function describeProblem(code: string | undefined): string {
  return code === undefined || isAbsence(code) ? 'missing' : code;
}

function positive(setting: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new SecretsError('SECRETS_INVALID_CONFIG', `${setting} must be a positive number of milliseconds`);
  return v;
}

function nonNegative(setting: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new SecretsError('SECRETS_INVALID_CONFIG', `${setting} must be zero or more milliseconds`);
  return v;
}

export function createSecretsEngine<C extends CatalogSpec>(options: SecretsEngineOptions<C>): SecretsEngine<C> {
  return new SecretsEngine(options);
}
