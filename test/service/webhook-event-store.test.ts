import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Database, pgPoolConfig } from '../../src/service/database.js';
import { storeWebhookEvents, type WebhookEvent } from '../../src/service/webhook-event-store.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';

let db: ThrowawayDatabase;
let database: Database;

beforeAll(async () => {
  db = await throwawayDatabase('svc_event_store');
  database = new Database({ url: db.url, createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)) });
  database.start();
  await database.whenReady();
});

afterAll(async () => {
  await database.close();
  await db.drop();
});

const event = (text: string, signedWith: WebhookEvent['signedWith'] = 'current'): WebhookEvent => {
  const body = Buffer.from(text, 'utf8');
  return { id: createHash('sha256').update(body).digest('hex'), object: 'page', body, signedWith };
};

describe('storeWebhookEvents', () => {
  it('stores a group in one transaction and answers per event, in order, first occurrence stored', async () => {
    const a = event('{"object":"page","n":"a"}');
    const b = event('{"object":"page","n":"b"}', 'previous');

    const results = await storeWebhookEvents(database, [a, b, a]);

    expect(results).toEqual(['stored', 'stored', 'duplicate']);
    const { rows } = await database.query<{ id: string; body: Buffer; signed_with: string; tx: string }>(
      'SELECT id, body, signed_with, xmin::text AS tx FROM webhook_events WHERE id = ANY($1) ORDER BY id',
      [[a.id, b.id]],
    );
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
    expect(rows.find((r) => r.id === b.id)).toMatchObject({ body: b.body, signed_with: 'previous' });
  });

  it('reports events stored by an earlier group as duplicates, beside new ones', async () => {
    const old = event('{"object":"page","n":"old"}');
    await storeWebhookEvents(database, [old]);
    const fresh = event('{"object":"page","n":"new"}');

    expect(await storeWebhookEvents(database, [old, fresh])).toEqual(['duplicate', 'stored']);
  });

  it('keeps the exact bytes, NUL escapes and invalid JSON for PostgreSQL included', async () => {
    const deep = event(`{"object":"page","nul":"\\u0000","deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);

    await storeWebhookEvents(database, [deep]);

    const { rows } = await database.query<{ body: Buffer }>('SELECT body FROM webhook_events WHERE id = $1', [deep.id]);
    expect(rows[0]!.body.equals(deep.body)).toBe(true);
  });

  it('stores an object holding U+0000 with that character escaped as \u0000, and the exact body', async () => {
    const body = Buffer.from('{"object":"page\\u0000x","n":"nul"}', 'utf8');
    const nul: WebhookEvent = { id: createHash('sha256').update(body).digest('hex'), object: 'page\u0000x\\u0000', body, signedWith: 'current' };

    expect(await storeWebhookEvents(database, [nul])).toEqual(['stored']);

    const { rows } = await database.query<{ object: string; body: Buffer }>('SELECT object, body FROM webhook_events WHERE id = $1', [nul.id]);
    expect(rows[0]!.object).toBe('page\\u0000x\\\\u0000');
    expect(rows[0]!.body.equals(body)).toBe(true);
  });

  it('stores an event without its object when asked to', async () => {
    const e = event('{"object":"page","n":"no-object"}');

    await storeWebhookEvents(database, [e], { withoutObject: true });

    const { rows } = await database.query<{ object: string | null }>('SELECT object FROM webhook_events WHERE id = $1', [e.id]);
    expect(rows[0]!.object).toBeNull();
  });

  it('sends nothing for no events', async () => {
    expect(await storeWebhookEvents({ query: () => Promise.reject(new Error('no query expected')) }, [])).toEqual([]);
  });
});
