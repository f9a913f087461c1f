-- Up Migration
-- Salons (tenants) served by the WhatsApp SaaS backend, listed by GET /admin/salons.
CREATE TABLE salons (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  phone_number_id text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE salons;
