import type { Catalog, CatalogSpec, SecretName, SecretValue } from './catalog.js';
import { startupBackoff } from './backoff.js';
import { classifyAwsError } from './aws-error.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { withDeadline } from './deadline.js';
import { SecretsError, SourceError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { Attempt, Scope } from './refresh-machine.js';
import type { RefreshOutcome, RefreshReason } from './refresh-outcome.js';
import { logRefreshed, logRefreshFailed, logSecretFailures } from './refresh-log.js';
import { Refresher } from './refresher.js';
import { previousAccepted } from './rotation-grace.js';
import { cellsFor, EMPTY_SNAPSHOT, nextSnapshot, requiredProblems, type Cell } from './snapshot.js';
import type { SecretSource } from './source.js';
import { startUp } from './startup.js';
import type { EngineStatus, StatusInput } from './status.js';
import { engineStatus } from './status.js';
import { validatedOptions, type SecretsEngineOptions } from './engine-options.js';
import { readAttempt } from './attempt-reader.js';

export interface RefreshOptions<C extends CatalogSpec> {
  /** Read only these secrets (GetSecretValue each in AWS mode) and merge them into the snapshot. */
  readonly names?: readonly SecretName<C>[];
  /** Start an attempt after this call rather than join one that may have read the store before a change. */
  readonly fresh?: boolean;
  /** For logs and metrics; `forced` by default. */
  readonly reason?: RefreshReason;
}

/**
 * The secrets engine: a typed, synchronous view of the catalog over an immutable snapshot that a
 * refresh swaps whole. No read waits on the source; a failed refresh keeps every cached value;
 * one attempt runs at a time, driven by one state machine (see refresh-machine.ts).
 */
export class SecretsEngine<C extends CatalogSpec> {
  readonly catalog: Catalog<C>;
  readonly ttlMs: number;
  readonly graceMs: number;
  private readonly source: SecretSource;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: ReturnType<typeof validatedOptions>;
  private readonly refresher: Refresher;

  /** The hot path reads only `readDue` and this map: one lookup gives the value and its read count. */
  private cells: Map<string, Cell> = new Map();
  /** Whether a read may start an attempt (then the clock decides): false on the hot path of a timer-driven engine. */
  private readDue = false;
  private readDueAtMs = Infinity;
  private snapshot = EMPTY_SNAPSHOT;
  private initialized = false;
  private starting: Promise<void> | undefined;
  private readonly closing = new AbortController();
  private lastAttemptMs: number | undefined;
  private lastFailureCode: string | undefined;
  private lastAnyRefresh: StatusInput['lastAnyRefresh'];
  /** The region whose answer the current values came from, and since when (AWS mode). */
  private served: { readonly region: string; readonly sinceMs: number } | undefined;
  private readonly listeners = new Set<(outcome: RefreshOutcome) => void>();

  constructor(options: SecretsEngineOptions<C>) {
    this.options = validatedOptions(options);
    this.catalog = options.catalog;
    this.source = options.source;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.ttlMs = this.options.ttlMs;
    this.graceMs = this.options.graceMs;
    this.refresher = new Refresher({
      clock: this.clock,
      policy: { ttlMs: this.ttlMs, backoff: this.options.backoff, autoRefresh: this.options.autoRefresh, random: this.options.random },
      run: (attempt, timeoutMs) => this.runAttempt(attempt, timeoutMs ?? this.options.attemptTimeoutMs),
      settled: (attempt, outcome) => this.settled(attempt, outcome),
      readDue: (atMs) => {
        this.readDue = atMs !== Infinity;
        this.readDueAtMs = atMs;
      },
    });
  }

  /**
   * Loads everything, retrying transient failures within the start-up deadline. Throws
   * MissingSecretsError naming every required secret that is missing or invalid (never a value),
   * or SourceError when the source cannot be read at all; denial and missing secrets at once.
   */
  initialize(): Promise<void> {
    if (this.closing.signal.aborted) return Promise.reject(new SecretsError('SECRETS_CLOSED', 'Secrets engine is closed'));
    if (this.initialized) return Promise.resolve();
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** The current value: synchronous, from memory, never waiting on the source. */
  get<K extends SecretName<C>>(name: K): SecretValue<C[K]> {
    if (this.readDue && this.clock.now() >= this.readDueAtMs) this.refresher.read();
    const cell = this.cells.get(name);
    if (cell === undefined) throw this.noCell(name);
    cell.reads++;
    return cell.value as SecretValue<C[K]>;
  }

  /**
   * Values a presented credential may match: the current one, and the previous one while its
   * grace window is open (unless the rotation or rollback was immediate). Compare against every
   * element in constant time.
   */
  accepted(name: SecretName<C>): readonly string[] {
    const slot = this.snapshot.slots.get(name);
    if (slot?.raw === undefined) return [];
    if (!previousAccepted(this.catalog.entry(name), slot, this.graceMs, this.clock.now())) return [slot.raw];
    return [slot.raw, slot.previous!.raw];
  }

  /**
   * Runs a refresh now, or joins the one in flight when it reads what is asked and `fresh` is not
   * set. Never rejects: the outcome says how it went. A name outside the catalog throws at once.
   */
  refresh(options: RefreshOptions<C> = {}): Promise<RefreshOutcome> {
    const reason = options.reason ?? 'forced';
    const names = options.names;
    for (const name of names ?? []) if (this.catalog.entry(name) === undefined) throw this.noCell(name);
    if (names?.length === 0) return Promise.resolve({ ok: true, reason, names: [], changed: [], failed: [] });
    const scope: Scope = names === undefined ? 'all' : new Set<string>(names);
    const { outcome, answeredBy } = this.refresher.request(scope, options.fresh === true, reason);
    this.logger.info(
      { event: 'secrets.refresh_forced', reason, fresh: options.fresh === true, answeredBy, ...(names && { names }) },
      'Secrets refresh requested',
    );
    return outcome;
  }

  /** Called after every refresh attempt, e.g. to reconnect a pool whose URL changed, or count it. */
  onRefresh(listener: (outcome: RefreshOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): EngineStatus {
    return engineStatus({
      catalog: this.catalog,
      snapshot: this.snapshot,
      cells: this.cells,
      refresh: this.refresher.current,
      initialized: this.initialized,
      source: this.source,
      ttlMs: this.ttlMs,
      graceMs: this.graceMs,
      nowMs: this.clock.now(),
      lastAttemptMs: this.lastAttemptMs,
      lastAnyRefresh: this.lastAnyRefresh,
      lastFailureCode: this.lastFailureCode,
      served: this.served,
    });
  }

  /** Stops timers (and a start-up waiting to retry); an attempt in flight finishes but schedules nothing. Values stay readable. */
  close(): void {
    this.refresher.close();
    this.closing.abort();
  }

  private async start(): Promise<void> {
    this.logger.info(
      { event: 'secrets.initializing', source: this.source.kind, region: this.source.region },
      `Loading secrets from ${this.source.description}`,
    );
    try {
      await startUp({
        clock: this.clock,
        logger: this.logger,
        timeoutMs: this.options.startupTimeoutMs,
        attemptTimeoutMs: this.options.attemptTimeoutMs,
        backoff: startupBackoff,
        random: this.options.random,
        attempt: (timeoutMs) => this.refresher.request('all', false, 'startup', timeoutMs).outcome,
        problems: () => requiredProblems(this.catalog, this.snapshot).map(({ name, reason }) => ({ name, reason })),
        closed: this.closing.signal,
      });
    } catch (err) {
      if (err instanceof SecretsError && err.code === 'SECRETS_MISSING_REQUIRED') {
        const names = requiredProblems(this.catalog, this.snapshot).map((p) => p.name);
        this.logger.error({ event: 'secrets.missing_required', names }, 'Required secrets missing or invalid');
      }
      throw err;
    }
    this.initialized = true;
    this.cells = cellsFor(this.snapshot.slots, this.cells);
    this.refresher.run();
    const count = this.status().secretsLoaded;
    this.logger.info({ event: 'secrets.loaded', source: this.source.kind, count }, `Loaded ${count} secrets from ${this.source.description}`);
  }

  private noCell(name: string): SecretsError {
    return this.catalog.entry(name) === undefined
      ? new SecretsError('SECRETS_INVALID_CONFIG', `Unknown secret ${JSON.stringify(name.slice(0, 64))}: not in the catalog`)
      : new SecretsError('SECRETS_NOT_INITIALIZED', `Secret ${name} read before initialize() finished`);
  }

  /** One attempt: read within its deadline, merge, swap. A result that misses the deadline is never applied. */
  private async runAttempt(attempt: Attempt, timeoutMs: number): Promise<RefreshOutcome> {
    const { reason } = attempt;
    const names = attempt.scope === 'all' ? undefined : { names: [...attempt.scope] };
    this.lastAttemptMs = this.clock.now();
    try {
      const reader = { catalog: this.catalog, source: this.source, logger: this.logger, graceMs: this.graceMs };
      const result = await withDeadline((signal) => readAttempt(reader, attempt, this.snapshot.slots, this.clock.now(), signal), {
        timeoutMs,
        clock: this.clock,
        error: () => new SourceError('AttemptTimeout', true),
      });
      const before = this.snapshot;
      const merged = nextSnapshot(before, result, this.clock.now());
      // Synchronous from here to the swap, so no read's count is lost between copy and swap.
      this.snapshot = merged.snapshot;
      if (this.initialized) this.cells = cellsFor(merged.snapshot.slots, this.cells);
      logSecretFailures(this.logger, this.catalog, before, merged.failures);
      if (result.region !== undefined && merged.applied) this.noteRegion(result.region);
      const region = result.region === undefined ? {} : { region: result.region, servedByReplica: result.region !== this.source.region };
      return { ok: true, reason, ...names, changed: merged.changed, failed: merged.failures, ...region };
    } catch (err) {
      const { code, transient } = err instanceof SourceError ? { code: err.sourceCode, transient: err.transient } : classifyAwsError(err);
      return { ok: false, reason, ...names, code, transient };
    }
  }

  /** One log line per change of the serving region: the move to a replica, and the way back. */
  private noteRegion(region: string): void {
    const before = this.served;
    if (before?.region === region) return;
    this.served = { region, sinceMs: this.clock.now() };
    const primary = this.source.region;
    if (region !== primary) {
      this.logger.warn(
        { event: 'secrets.region_failover', region, primaryRegion: primary, from: before?.region ?? null },
        `Secrets served by the replica in ${region}: the primary region ${primary ?? ''} failed`,
      );
    } else if (before !== undefined) {
      this.logger.info({ event: 'secrets.region_restored', region, from: before.region }, `Secrets served by the primary region ${region} again`);
    }
  }

  private settled(attempt: Attempt, outcome: RefreshOutcome): void {
    if (attempt.scope === 'all') this.lastFailureCode = outcome.ok ? undefined : outcome.code;
    if (outcome.ok) this.lastAnyRefresh = { atMs: this.clock.now(), kind: attempt.scope === 'all' ? 'full' : 'names', reason: outcome.reason };
    if (!outcome.ok) logRefreshFailed(this.logger, outcome, this.refresher.current.failures);
    else if (outcome.reason !== 'startup') logRefreshed(this.logger, outcome);
    for (const listener of this.listeners) {
      try {
        listener(outcome);
      } catch (err) {
        this.logger.error({ event: 'secrets.listener_failed', code: classifyAwsError(err).code }, 'Refresh listener threw');
      }
    }
  }
}

export function createSecretsEngine<C extends CatalogSpec>(options: SecretsEngineOptions<C>): SecretsEngine<C> {
  return new SecretsEngine(options);
}

