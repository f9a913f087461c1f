-- Up Migration
-- Meta webhook deliveries, stored before the 200 so none is lost.
-- id: SHA-256 (hex) of the raw body. Meta redelivers a failed delivery byte for byte, so a
-- redelivery lands on the same id and is stored once (INSERT ... ON CONFLICT DO NOTHING).
-- payload is json, not jsonb: json keeps the exact text (jsonb rejects \u0000 escapes).
CREATE TABLE webhook_events (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  object text,
  payload json NOT NULL,
  signed_with text NOT NULL CHECK (signed_with IN ('current', 'previous')),
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX webhook_events_unprocessed_idx ON webhook_events (received_at) WHERE processed_at IS NULL;

-- Down Migration
DROP TABLE webhook_events;
