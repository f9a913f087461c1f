import type { Database } from './database.js';
import { WebhookOverloadedError } from './errors.js';
import { storeWebhookEvents, type StoreResult, type WebhookEvent } from './webhook-event-store.js';

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
}

/** 256 pending events in groups of 64 (4 MiB of bodies at most), six groups at a time (see README, "Webhook ingest"). */
export const DEFAULT_WEBHOOK_INGEST: WebhookIngestOptions = {
  maxPending: 256,
  maxGroup: 64,
  maxGroupBytes: 4 * 1024 * 1024,
  groupsInFlight: 6,
  retryAfterSeconds: 1,
};

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
  private counts = { groupsCommitted: 0, groupsFailed: 0, refused: 0 };

  constructor(db: Pick<Database, 'query'>, options: Partial<WebhookIngestOptions> = {}) {
    this.db = db;
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
    try {
      const results = await storeWebhookEvents(
        this.db,
        group.map((p) => p.event),
      );
      this.counts.groupsCommitted++;
      group.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      this.counts.groupsFailed++;
      for (const p of group) p.reject(err);
    } finally {
      this.groupsWriting--;
      this.writing -= group.length;
      // Whatever arrived while this group was written leaves now, as the next group.
      this.drain();
    }
  }
}
