-- Up Migration
-- Meta signs bytes, and anything it signed must be kept: PostgreSQL's json type refuses some
-- bodies JavaScript accepts (deeply nested arrays exceed its parser's stack depth), which made a
-- validly signed delivery fail with 500. Keep the exact bytes instead (bytea parses nothing);
-- read them as JSON with convert_from(body, 'UTF8')::json where that is needed. The id is still
-- the SHA-256 of these bytes, so a redelivery is still stored once.
ALTER TABLE webhook_events ADD COLUMN body bytea;
UPDATE webhook_events SET body = convert_to(payload::text, 'UTF8');
ALTER TABLE webhook_events ALTER COLUMN body SET NOT NULL;
ALTER TABLE webhook_events DROP COLUMN payload;

-- Down Migration
-- Fails (and changes nothing) if a stored body is one PostgreSQL's json type refuses.
ALTER TABLE webhook_events ADD COLUMN payload json;
UPDATE webhook_events SET payload = convert_from(body, 'UTF8')::json;
ALTER TABLE webhook_events ALTER COLUMN payload SET NOT NULL;
ALTER TABLE webhook_events DROP COLUMN body;
