import type { Database } from './database.js';

export interface WebhookEvent {
  /** SHA-256 (hex) of the raw body: a redelivery of the same event has the same id. */
  readonly id: string;
  /** The payload's `object` field (e.g. `whatsapp_business_account`), if any. */
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
 * Stores verified events durably, all in one transaction: when this resolves, every one of them is
 * committed. Idempotent on the id: an event already stored (a redelivery), or repeated in the same
 * group, is reported `duplicate` without a second row; the first of a repeated id is the one that
 * may be `stored`. Results are in the order of `events`. Rejects (nothing stored) if the statement
 * fails.
 */
export async function storeWebhookEvents(db: Pick<Database, 'query'>, events: readonly WebhookEvent[]): Promise<StoreResult[]> {
  if (events.length === 0) return [];
  const unique = new Map<string, WebhookEvent>();
  for (const e of events) if (!unique.has(e.id)) unique.set(e.id, e);
  const rows = [...unique.values()];
  const { rows: inserted } = await db.query<{ id: string }>(
    INSERT_EVENTS.text,
    [rows.map((e) => e.id), rows.map((e) => e.object), rows.map((e) => e.body), rows.map((e) => e.signedWith)],
    { name: INSERT_EVENTS.name },
  );
  const fresh = new Set(inserted.map((r) => r.id));
  return events.map((e) => {
    // Only the first occurrence of an id can be the one that stored it.
    if (fresh.delete(e.id)) return 'stored';
    return 'duplicate';
  });
}

