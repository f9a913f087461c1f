import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { signWebhookBody } from '../../../src/service/webhook-signature.js';
import { FakeClock } from '../../support/fake-clock.js';
import { freePort } from '../support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../support/postgres.js';
import { SHARED_REDIS_URL } from '../support/redis-server.js';
import { startHarness, testSecrets, type Harness } from '../support/service-harness.js';

let db: ThrowawayDatabase;
let h: Harness;

beforeAll(async () => {
  db = await throwawayDatabase('svc_webhook');
  h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL), options: { webhookBodyLimitBytes: 1024 * 1024 } });
});

afterAll(async () => {
  await h.close();
  await db.drop();
});

const secret = () => h.env.META_APP_SECRET!;
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

function post(body: string | Buffer, signature: string | undefined, contentType: string | undefined = 'application/json') {
  return h.app.inject({
    method: 'POST',
    url: '/webhook',
    payload: body,
    headers: { ...(contentType !== undefined && { 'content-type': contentType }), ...(signature !== undefined && { 'x-hub-signature-256': signature }) },
  });
}

async function stored(id: string): Promise<{ payload: string; signed_with: string; object: string | null } | undefined> {
  const { rows } = await h.database.query<{ payload: string; signed_with: string; object: string | null }>(
    "SELECT convert_from(body, 'UTF8') AS payload, signed_with, object FROM webhook_events WHERE id = $1",
    [id],
  );
  return rows[0];
}

describe('GET /webhook (verification handshake)', () => {
  const verify = (query: string) => h.app.inject({ method: 'GET', url: `/webhook?${query}` });

  it('answers the challenge as plain text to the right verify token', async () => {
    const res = await verify(`hub.mode=subscribe&hub.verify_token=${encodeURIComponent(h.env.META_VERIFY_TOKEN!)}&hub.challenge=1158201444`);

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('1158201444');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each([
    ['a wrong token', 'hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1'],
    ['no token', 'hub.mode=subscribe&hub.challenge=1'],
    ['another mode', 'hub.mode=unsubscribe&hub.verify_token=<token>&hub.challenge=1'],
    ['no challenge', 'hub.mode=subscribe&hub.verify_token=<token>'],
    ['a markup challenge', 'hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    ['an overlong challenge', `hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=${'9'.repeat(257)}`],
    ['a repeated token', 'hub.mode=subscribe&hub.verify_token=<token>&hub.verify_token=<token>&hub.challenge=1'],
    ['nothing', ''],
  ])('answers 403 to %s', async (_label, query) => {
    const res = await verify(query.replace(/<token>/g, encodeURIComponent(h.env.META_VERIFY_TOKEN!)));

    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(res.body).not.toContain('script');
  });

  it('never logs the verify token from the query string', async () => {
    await verify(`hub.mode=subscribe&hub.verify_token=${encodeURIComponent(h.env.META_VERIFY_TOKEN!)}&hub.challenge=7`);

    expect(h.logs.text()).not.toContain(h.env.META_VERIFY_TOKEN!);
    expect(h.logs.text()).toContain('hub.verify_token=[Redacted]');
  });

  it('accepts the previous verify token within its grace window, and not after', async () => {
    const clock = new FakeClock(Date.now());
    const other = await startHarness({
      env: { ...testSecrets(db.url, SHARED_REDIS_URL), META_VERIFY_TOKEN: 'vt-new-0123456789abc', META_VERIFY_TOKEN_PREVIOUS: 'vt-old-0123456789abc', META_VERIFY_TOKEN_ROTATED_AT: new Date(clock.now()).toISOString() },
      clock,
      graceMs: 1_000,
    });
    try {
      const call = () => other.app.inject({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=vt-old-0123456789abc&hub.challenge=5' });

      expect((await call()).statusCode).toBe(200);
      await clock.advance(1_001);
      expect((await call()).statusCode).toBe(403);
    } finally {
      await other.close();
    }
  });
});

describe('POST /webhook', () => {
  it('stores a validly signed event before answering 200', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}';

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, id: sha256(body), duplicate: false });
    expect(await stored(sha256(body))).toEqual({ payload: body, signed_with: 'current', object: 'whatsapp_business_account' });
  });

  it('stores a redelivery once and still answers 200', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"id":"dup"}]}';

    const first = await post(body, signWebhookBody(body, secret()));
    const again = await post(body, signWebhookBody(body, secret()));

    expect(first.json().duplicate).toBe(false);
    expect(again.statusCode).toBe(200);
    expect(again.json().duplicate).toBe(true);
    const { rows } = await h.database.query('SELECT 1 FROM webhook_events WHERE id = $1', [sha256(body)]);
    expect(rows).toHaveLength(1);
  });

  it('verifies and stores escaped unicode and whitespace exactly as received', async () => {
    const body = '{\n  "object": "page",\n  "text": "caf\\u00e9 \\ud83d\\ude00 \\u0000 <b>"\n}';

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(200);
    expect((await stored(sha256(body)))!.payload).toBe(body);
  });

  it('verifies raw UTF-8 bytes', async () => {
    const body = Buffer.from('{"object":"page","text":"café 😀 ✓"}', 'utf8');

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(200);
    expect((await stored(sha256(body)))!.payload).toBe(body.toString('utf8'));
  });

  it('keeps the raw bytes whatever the content type says, or when it says nothing', async () => {
    const body = '{"object":"page","n":2}';

    expect((await post(body, signWebhookBody(body, secret()), 'text/plain')).statusCode).toBe(200);
    const bare = '{"object":"page","n":3}';
    expect((await post(bare, signWebhookBody(bare, secret()), undefined)).statusCode).toBe(200);
  });

  it('accepts an event signed with the previous app secret within its grace window, and records that', async () => {
    const clock = new FakeClock(Date.now());
    const other = await startHarness({
      env: { ...testSecrets(db.url, SHARED_REDIS_URL), META_APP_SECRET: 'app-secret-new-0123456789abcdefghij', META_APP_SECRET_PREVIOUS: 'app-secret-old-0123456789abcdefghij', META_APP_SECRET_ROTATED_AT: new Date(clock.now()).toISOString() },
      clock,
      graceMs: 1_000,
    });
    try {
      const send = (body: string) =>
        other.app.inject({ method: 'POST', url: '/webhook', payload: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, 'app-secret-old-0123456789abcdefghij') } });

      const within = await send('{"object":"page","grace":"within"}');
      await clock.advance(1_001);
      const after = await send('{"object":"page","grace":"after"}');

      expect(within.statusCode).toBe(200);
      expect((await stored(sha256('{"object":"page","grace":"within"}')))!.signed_with).toBe('previous');
      expect(after.statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['a missing signature', undefined],
    ['another algorithm', 'sha1=0000000000000000000000000000000000000000'],
    ['non-hex digits', `sha256=${'g'.repeat(64)}`],
    ['a wrong length', `sha256=${'a'.repeat(40)}`],
    ['a signature made with another secret', signWebhookBody('{"object":"page"}', 'not-the-secret')],
  ])('answers a plain 401 to %s and stores nothing', async (_label, signature) => {
    const body = '{"object":"page"}';

    const res = await post(body, signature);

    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized' }, requestId: expect.any(String) });
    expect(await stored(sha256(body))).toBeUndefined();
  });

  it('stores a signed body PostgreSQL could not parse as json (100,000 nested arrays), and still detects its redelivery', async () => {
    const body = `{"object":"page","deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

    const first = await post(body, signWebhookBody(body, secret()));
    const again = await post(body, signWebhookBody(body, secret()));

    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ received: true, id: sha256(body), duplicate: false });
    expect(again.json()).toEqual({ received: true, id: sha256(body), duplicate: true });
    expect((await stored(sha256(body)))!.payload).toBe(body);
  });

  it('stores the exact bytes of a signed body in a bytea column', async () => {
    const body = Buffer.from('{"object":"page","nul":"\\u0000","dup":1,"dup":2,"big":1e400}', 'utf8');

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(200);
    const { rows } = await h.database.query<{ body: Buffer }>('SELECT body FROM webhook_events WHERE id = $1', [sha256(body)]);
    expect(rows[0]!.body.equals(body)).toBe(true);
  });

  it('answers 401 to a body with one byte changed', async () => {
    const body = '{"object":"page","amount":100}';
    const signature = signWebhookBody(body, secret());

    const res = await post(body.replace('100', '900'), signature);

    expect(res.statusCode).toBe(401);
  });

  it('answers 413 to a body over the limit, without reading it all', async () => {
    const body = Buffer.alloc(1024 * 1024 + 1, 0x20);

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['not JSON', 'object=page'],
    ['a JSON array', '[{"object":"page"}]'],
    ['JSON null', 'null'],
    ['an empty body', ''],
  ])('answers 400 to a validly signed body that is %s', async (_label, body) => {
    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_REQUEST');
  });

  it('answers 400 to validly signed bytes that are not UTF-8', async () => {
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(400);
  });

  it('logs a stored delivery once, in its committed group\'s line, and no request line of its own', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"id":"logged-once"}]}';
    h.logs.clear();

    const res = await post(body, signWebhookBody(body, secret()));

    expect(res.statusCode).toBe(200);
    const requestId = res.headers['x-request-id'];
    expect(h.logs.lines().filter((l) => l.requestId === requestId)).toEqual([]);
    expect(h.logs.lines().filter((l) => l.event === 'webhook.group_committed')).toEqual([
      expect.objectContaining({ level: 30, events: 1, stored: 1, duplicates: 0, signedWithPrevious: 0, ms: expect.any(Number) }),
    ]);
    expect(h.logs.text()).not.toContain(sha256(body));
    expect(h.logs.text()).not.toContain('logged-once');
  });

  it('logs no request line for a stored delivery whose URL has a query either', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"id":"with-query"}]}';
    h.logs.clear();

    const res = await h.app.inject({ method: 'POST', url: '/webhook?source=meta', payload: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, secret()) } });

    expect(res.statusCode).toBe(200);
    expect(h.logs.lines().filter((l) => l.requestId === res.headers['x-request-id'])).toEqual([]);
    expect(h.logs.lines().filter((l) => l.event === 'webhook.group_committed')).toHaveLength(1);
  });

  it('logs a refused delivery with its request and status, never its signature or body', async () => {
    const body = '{"object":"page","refused":"body-canary-5e1f"}';
    const signature = signWebhookBody(`${body} `, secret());
    h.logs.clear();

    const res = await post(body, signature);

    expect(res.statusCode).toBe(401);
    const mine = h.logs.lines().filter((l) => l.requestId === res.headers['x-request-id']);
    expect(mine).toContainEqual(
      expect.objectContaining({ msg: 'request completed', req: expect.objectContaining({ method: 'POST', url: '/webhook' }), res: { statusCode: 401 }, responseTime: expect.any(Number) }),
    );
    expect(h.logs.lines().filter((l) => l.event === 'webhook.group_committed')).toEqual([]);
    expect(h.logs.text()).not.toContain(signature.slice('sha256='.length));
    expect(h.logs.text()).not.toContain('body-canary-5e1f');
  });

  it('still writes both request lines for the other routes', async () => {
    h.logs.clear();

    const res = await h.app.inject({ method: 'GET', url: '/webhook?hub.mode=subscribe' });

    const msgs = h.logs
      .lines()
      .filter((l) => l.requestId === res.headers['x-request-id'])
      .map((l) => l.msg);
    expect(msgs).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
  });

  it('answers 503, never 200, when the event cannot be stored, so Meta delivers it again', async () => {
    const down = await startHarness({ env: testSecrets(`postgresql://postgres@127.0.0.1:${await freePort()}/x`, SHARED_REDIS_URL), waitForDatabase: false });
    try {
      const body = '{"object":"page","lost":false}';

      const res = await down.app.inject({ method: 'POST', url: '/webhook', payload: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, down.env.META_APP_SECRET!) } });

      expect(res.statusCode).toBe(503);
    } finally {
      await down.close();
    }
  });
});
