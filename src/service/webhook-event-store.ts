import type { Database } from './database.js';

export interface WebhookEvent {
  /** SHA-256 (hex) of the raw body: a redelivery of the same event has the same id. */
  readonly id: string;
  /**
   * The payload's `object` field (e.g. `whatsapp_business_account`), if any: a copy for queries,
   * the body being the record. PostgreSQL's text cannot hold U+0000, so the column gets it
   * escaped (see objectColumn).
   */
  readonly object: string | null;
  /**
   * The body exactly as received and signed, stored as bytea: nothing Meta signs can then fail
   * on a parser in the database (PostgreSQL's json type refuses deeply nested documents).
   */
  readonly body: Buffer;
  readonly signedWith: 'current' | 'previous';
}

/** What storing one event did: a new row, or none because its id was already stored. */
export type StoreResult = 'stored' | 'duplicate';

/**
 * One statement for any number of events, so its text never changes and PostgreSQL parses and
 * plans it once per connection (a named prepared statement): the rows arrive as four arrays.
 * One statement is one transaction, hence one commit (one WAL flush) for the whole group.
 */
const INSERT_EVENTS = {
  name: 'webhook_events_insert_v1',
  text:
    'INSERT INTO webhook_events (id, object, body, signed_with) ' +
    'SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[]) ' +
    'ON CONFLICT (id) DO NOTHING RETURNING id',
} as const;

/**
 * The `object` column's text: a backslash doubled, then U+0000 (which PostgreSQL's text refuses
 * with 22021) written as the six characters `\u0000`, so the original can be read back
 * unambiguously. Nothing else changes (a lone surrogate reaches PostgreSQL as U+FFFD, as the
 * driver encodes it); the body keeps the exact bytes in any case.
 */
export function objectColumn(object: string | null): string | null {
  if (object === null || (!object.includes('\0') && !object.includes('\\'))) return object;
  return object.replaceAll('\\', '\\\\').replaceAll('\0', '\\u0000');
}

export interface StoreOptions {
  /**
   * Leave `object` NULL: the last resort for an event whose object PostgreSQL still refuses (a
   * data error), so a signed delivery is stored all the same; the body holds the object anyway.
   */
  readonly withoutObject?: boolean;
}

/** The events, stored since `withinSeconds` ago by the server's clock: which of these ids are in the table. */
export async function storedRecently(db: Pick<Database, 'query'>, ids: readonly string[], withinSeconds: number): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM webhook_events WHERE id = ANY($1::text[]) AND received_at >= now() - make_interval(secs => $2)",
    [ids, withinSeconds],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Stores verified events durably, all in one transaction: when this resolves, every one of them is
 * committed. Idempotent on the id: an event already stored (a redelivery), or repeated in the same
 * group, is reported `duplicate` without a second row; the first of a repeated id is the one that
 * may be `stored`. Results are in the order of `events`. Rejects (nothing stored) if the statement
 * fails.
 */
export async function storeWebhookEvents(db: Pick<Database, 'query'>, events: readonly WebhookEvent[], options: StoreOptions = {}): Promise<StoreResult[]> {
  if (events.length === 0) return [];
  const unique = new Map<string, WebhookEvent>();
  for (const e of events) if (!unique.has(e.id)) unique.set(e.id, e);
  const rows = [...unique.values()];
  const { rows: inserted } = await db.query<{ id: string }>(
    INSERT_EVENTS.text,
    [rows.map((e) => e.id), rows.map((e) => (options.withoutObject === true ? null : objectColumn(e.object))), rows.map((e) => e.body), rows.map((e) => e.signedWith)],
    { name: INSERT_EVENTS.name },
  );
  const fresh = new Set(inserted.map((r) => r.id));
  return events.map((e) => {
    // Only the first occurrence of an id can be the one that stored it.
    if (fresh.delete(e.id)) return 'stored';
    return 'duplicate';
  });
}

