import { createHash } from 'node:crypto';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/service/migrate.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../service/support/postgres.js';

let db: ThrowawayDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await throwawayDatabase('mig_raw_body');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await db.drop();
});

const migrate = (direction: 'up' | 'down', count: number) =>
  runner({ dbClient: client, dir: MIGRATIONS_DIR, direction, count, migrationsTable: 'pgmigrations', log: () => {} });

describe('migration 1764300000002: webhook_events keeps the raw body', () => {
  it('moves stored json payloads into body byte for byte, and back down', async () => {
    await migrate('up', 2);
    const payload = '{ "object" : "page",\n  "text": "caf\\u00e9 \\u0000" }';
    const id = createHash('sha256').update(payload).digest('hex');
    await client.query("INSERT INTO webhook_events (id, object, payload, signed_with) VALUES ($1, 'page', $2::json, 'current')", [id, payload]);

    await migrate('up', 1);
    const up = await client.query<{ body: Buffer }>('SELECT body FROM webhook_events WHERE id = $1', [id]);
    await migrate('down', 1);
    const down = await client.query<{ payload: string }>('SELECT payload::text AS payload FROM webhook_events WHERE id = $1', [id]);

    expect(up.rows[0]!.body.toString('utf8')).toBe(payload);
    expect(createHash('sha256').update(up.rows[0]!.body).digest('hex')).toBe(id);
    expect(down.rows[0]!.payload).toBe(payload);
  });
});
