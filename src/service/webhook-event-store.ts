import type { Database } from './database.js';

export interface WebhookEvent {
  /** SHA-256 (hex) of the raw body: a redelivery of the same event has the same id. */
  readonly id: string;
  /** The payload's `object` field (e.g. `whatsapp_business_account`), if any. */
  readonly object: string | null;
  /** The body as received (validated JSON text); stored as `json`, which keeps it verbatim. */
  readonly payloadText: string;
  readonly signedWith: 'current' | 'previous';
}

/**
 * Stores a verified event durably before the webhook answers 200. Idempotent on the id: a
 * redelivery is acknowledged without a second row. Resolves whether it was a duplicate.
 */
export async function storeWebhookEvent(db: Pick<Database, 'query'>, event: WebhookEvent): Promise<{ duplicate: boolean }> {
  const { rowCount } = await db.query(
    'INSERT INTO webhook_events (id, object, payload, signed_with) VALUES ($1, $2, $3::json, $4) ON CONFLICT (id) DO NOTHING',
    [event.id, event.object, event.payloadText, event.signedWith],
  );
  return { duplicate: rowCount === 0 };
}
