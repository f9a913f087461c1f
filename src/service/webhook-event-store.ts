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

/**
 * Stores a verified event durably before the webhook answers 200. Idempotent on the id: a
 * redelivery is acknowledged without a second row. Resolves whether it was a duplicate.
 */
export async function storeWebhookEvent(db: Pick<Database, 'query'>, event: WebhookEvent): Promise<{ duplicate: boolean }> {
  const { rowCount } = await db.query(
    'INSERT INTO webhook_events (id, object, body, signed_with) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
    [event.id, event.object, event.body, event.signedWith],
  );
  return { duplicate: rowCount === 0 };
}
