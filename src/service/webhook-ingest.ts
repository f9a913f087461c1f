import type { Clock } from '../engine/index.js';
import { driverErrorCode, systemClock } from '../engine/index.js';
import type { Database } from './database.js';
import { DatabaseUnavailableError, WebhookOverloadedError } from './errors.js';
import { storedRecently, storeWebhookEvents, type StoreResult, type WebhookEvent } from './webhook-event-store.js';

export interface WebhookIngestOptions {
  /**
   * Events accepted and not yet committed (waiting, or in a group being written). One more is
   * refused at once with 503 and Retry-After, never queued: Meta delivers it again, and a
   * bounded queue keeps every accepted event's wait bounded too.
   */
  readonly maxPending: number;
  /** Events in one transaction at most. */
  readonly maxGroup: number;
  /**
   * Body bytes in one transaction at most (an event larger than this still goes, alone): the
   * statement carries every body of its group, hex-encoded, so this bounds its size in memory.
   */
  readonly maxGroupBytes: number;
  /** Groups being written at once, each on its own pooled connection (keep it below the pool's size). */
  readonly groupsInFlight: number;
  /** What a refused delivery is told to wait. */
  readonly retryAfterSeconds: number;
  /**
   * After a group timed out on the client (query_timeout), how long to wait before looking for
   * its events in the table: those found were committed although their deliveries got 503.
   * PostgreSQL's statement_timeout is shorter than query_timeout, so by then the server has long
   * ended the statement.
   */
  readonly storedAfterTimeoutCheckMs: number;
}

/** 256 pending events in groups of 64 (4 MiB of bodies at most), three groups at a time (see README, "Webhook ingest";
 * three beat six by about a third in req/s at 100 connections in BENCHMARKS.md: fewer, larger
 * transactions cost PostgreSQL less, and its WAL flushes are serialized anyway). */
export const DEFAULT_WEBHOOK_INGEST: WebhookIngestOptions = {
  maxPending: 256,
  maxGroup: 64,
  maxGroupBytes: 4 * 1024 * 1024,
  groupsInFlight: 3,
  retryAfterSeconds: 1,
  storedAfterTimeoutCheckMs: 1_000,
};

/**
 * SQLSTATE classes of errors about the data of a statement, not the server: 22 (data exception,
 * e.g. 22021 for U+0000 in text), 23 (integrity constraint violation), 54 (program limit exceeded).
 */
export function isDataError(err: unknown): boolean {
  return /^(22|23|54)[0-9A-Z]{3}$/.test(driverErrorCode(err));
}

/** Counts for tests, benchmarks and metrics. */
export interface WebhookIngestStats {
  /** Accepted events waiting for a group. */
  readonly waiting: number;
  /** Events in groups being written now. */
  readonly writing: number;
  readonly groupsCommitted: number;
  readonly groupsFailed: number;
  /** Deliveries refused because `maxPending` events were pending. */
  readonly refused: number;
  /** Events written again in a transaction of their own after their group failed on a data error. */
  readonly retriedAlone: number;
  /** Events stored with `object` NULL because PostgreSQL refused even their escaped object. */
  readonly storedWithoutObject: number;
  /** Events answered 503 (client timeout) that the later check found committed. */
  readonly storedAfterTimeout: number;
}

/** One committed group, as `onCommitted` sees it: counts only, never a body. */
export interface CommittedGroup {
  readonly events: number;
  readonly stored: number;
  readonly duplicates: number;
  /** Events signed with the previous app secret (Meta not yet on the new one). */
  readonly signedWithPrevious: number;
  /** From the group's start to its commit. */
  readonly ms: number;
}

export interface WebhookIngestHooks {
  /**
   * Called once per committed group, before its deliveries are answered: the service logs one
   * line per group here instead of one per delivery (see README, "Webhook ingest").
   */
  readonly onCommitted?: (group: CommittedGroup) => void;
  /** Events answered 503 after a client timeout that were committed all the same (a redelivery is then a duplicate). */
  readonly onStoredAfterTimeout?: (events: number) => void;
  /** For the check after a client timeout. */
  readonly clock?: Clock;
}

interface Pending {
  readonly event: WebhookEvent;
  readonly resolve: (result: StoreResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit for webhook events: deliveries that arrive while a group is being written wait and
 * go together in the next one, one INSERT and one commit (one fsync) for all of them. Each
 * delivery's promise settles only when the transaction holding its event has committed (or
 * failed: then every member of that group, and only they, get its error), so the webhook still
 * answers 200 only for a durable event. Nothing waits on a timer: while a writer is free, a
 * delivery leaves at once in a group of its own (PostgreSQL still shares one WAL flush between
 * commits that coincide); once `groupsInFlight` groups are being written, deliveries wait and the
 * next free writer takes up to `maxGroup` of them together. Groups grow only when the database is
 * the bottleneck, which is when they help.
 */
export class WebhookIngest {
  private readonly db: Pick<Database, 'query'>;
  private readonly options: WebhookIngestOptions;
  private waiting: Pending[] = [];
  private writing = 0;
  private groupsWriting = 0;
  private counts = { groupsCommitted: 0, groupsFailed: 0, refused: 0, retriedAlone: 0, storedWithoutObject: 0, storedAfterTimeout: 0 };
  private readonly onCommitted: ((group: CommittedGroup) => void) | undefined;
  private readonly onStoredAfterTimeout: ((events: number) => void) | undefined;
  private readonly clock: Clock;

  constructor(db: Pick<Database, 'query'>, options: Partial<WebhookIngestOptions> = {}, hooks: WebhookIngestHooks = {}) {
    this.db = db;
    this.onCommitted = hooks.onCommitted;
    this.onStoredAfterTimeout = hooks.onStoredAfterTimeout;
    this.clock = hooks.clock ?? systemClock;
    this.options = { ...DEFAULT_WEBHOOK_INGEST, ...options };
    for (const [key, value] of Object.entries(this.options)) {
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`WebhookIngest: ${key} must be a positive integer`);
    }
  }

  /** Resolves once the event is committed (stored, or already there); rejects with the group's error, or at once when full. */
  submit(event: WebhookEvent): Promise<StoreResult> {
    if (this.waiting.length + this.writing >= this.options.maxPending) {
      this.counts.refused++;
      return Promise.reject(new WebhookOverloadedError(this.options.retryAfterSeconds));
    }
    return new Promise<StoreResult>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      // A free writer takes it at once: a lone delivery waits for nothing but its own commit.
      // Only while every writer is busy do deliveries wait, and they then leave together.
      this.drain();
    });
  }

  stats(): WebhookIngestStats {
    return { waiting: this.waiting.length, writing: this.writing, ...this.counts };
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.groupsWriting < this.options.groupsInFlight) {
      void this.write(this.waiting.splice(0, this.groupLength()));
    }
  }

  /** A throwing observer must not fail a committed group's deliveries: its error is dropped. */
  private report(group: readonly Pending[], results: readonly (StoreResult | undefined)[], ms: number): void {
    let stored = 0;
    let duplicates = 0;
    let signedWithPrevious = 0;
    for (let i = 0; i < group.length; i++) {
      // A member retried alone that failed (undefined here) was not committed: not counted.
      if (results[i] === undefined) continue;
      if (results[i] === 'stored') stored++;
      else duplicates++;
      if (group[i]!.event.signedWith === 'previous') signedWithPrevious++;
    }
    try {
      this.onCommitted!({ events: stored + duplicates, stored, duplicates, signedWithPrevious, ms });
    } catch {
      // the events are committed; an observer's failure changes nothing for them
    }
  }

  /** How many waiting events the next group takes: up to maxGroup, and maxGroupBytes unless the first alone is larger. */
  private groupLength(): number {
    let n = 0;
    let bytes = 0;
    while (n < this.waiting.length && n < this.options.maxGroup) {
      bytes += this.waiting[n]!.event.body.length;
      if (n > 0 && bytes > this.options.maxGroupBytes) break;
      n++;
    }
    return n;
  }

  private async write(group: Pending[]): Promise<void> {
    this.groupsWriting++;
    this.writing += group.length;
    const started = performance.now();
    try {
      const settled = await this.store(group);
      this.counts.groupsCommitted++;
      const results = settled.map((r) => (r instanceof Error ? undefined : r));
      if (this.onCommitted !== undefined) this.report(group, results, performance.now() - started);
      group.forEach((p, i) => {
        const r = settled[i]!;
        if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      });
    } catch (err) {
      this.counts.groupsFailed++;
      for (const p of group) p.reject(err);
      if (err instanceof DatabaseUnavailableError && err.dbCode === 'Timeout') this.checkAfterTimeout(group, performance.now() - started);
    } finally {
      this.groupsWriting--;
      this.writing -= group.length;
      // Whatever arrived while this group was written leaves now, as the next group.
      this.drain();
    }
  }

  /**
   * One transaction for the group. If PostgreSQL refuses its data (one odd event), each member
   * is written again in a transaction of its own, so the others are stored whatever the odd one
   * holds; a member refused alone is stored without its object (the body, bytea, always fits).
   * A data error that survives that answers 503 like an unavailable database, never 500.
   */
  private async store(group: readonly Pending[]): Promise<(StoreResult | Error)[]> {
    try {
      return await storeWebhookEvents(this.db, group.map((p) => p.event));
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (group.length === 1) return [await this.storeAlone(group[0]!.event, false)];
    }
    // Each member settles on its own from here: one that fails (the database went down meanwhile)
    // does not turn the 200 of one already committed into a 503.
    const results: (StoreResult | Error)[] = [];
    for (const p of group) results.push(await this.storeAlone(p.event, true).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))));
    return results;
  }

  private async storeAlone(event: WebhookEvent, retry: boolean): Promise<StoreResult> {
    if (retry) {
      this.counts.retriedAlone++;
      try {
        return (await storeWebhookEvents(this.db, [event]))[0]!;
      } catch (err) {
        if (!isDataError(err)) throw err;
      }
    }
    try {
      const [result] = await storeWebhookEvents(this.db, [event], { withoutObject: true });
      this.counts.storedWithoutObject++;
      return result!;
    } catch (err) {
      if (!isDataError(err)) throw err;
      throw new DatabaseUnavailableError(driverErrorCode(err), { cause: err });
    }
  }

  /** Looks for a timed-out group's events once the server has surely ended the statement. */
  private checkAfterTimeout(group: readonly Pending[], elapsedMs: number): void {
    const ids = [...new Set(group.map((p) => p.event.id))];
    const withinSeconds = Math.ceil((elapsedMs + this.options.storedAfterTimeoutCheckMs) / 1000) + 1;
    this.clock.setTimeout(() => {
      storedRecently(this.db, ids, withinSeconds).then(
        (found) => {
          if (found.size === 0) return;
          this.counts.storedAfterTimeout += found.size;
          this.onStoredAfterTimeout?.(found.size);
        },
        () => {},
      );
    }, this.options.storedAfterTimeoutCheckMs);
  }
}
