import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, type SecretSource } from '../../../src/engine/index.js';
import { createFailureThrottle } from '../../../src/service/failure-throttle.js';
import { FakeClock } from '../../support/fake-clock.js';
import { MemorySource } from '../../support/memory-source.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../support/postgres.js';
import { SHARED_REDIS_URL, whenRedisReady } from '../support/redis-server.js';
import { startHarness, testSecrets, type Harness, type HarnessOptions } from '../support/service-harness.js';

let db: ThrowawayDatabase;
const open: Harness[] = [];

beforeAll(async () => {
  db = await throwawayDatabase('svc_admin');
});

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

afterAll(async () => {
  await db.drop();
});

async function harness(over: Partial<HarnessOptions> = {}): Promise<Harness> {
  const h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL), ...over });
  open.push(h);
  // Only the shared Redis is expected up; tests of "Redis down" pass a dead URL.
  if (over.env === undefined) await whenRedisReady(h.redis);
  return h;
}

const auditLines = (h: Harness) => h.logs.lines().filter((l) => l.event === 'admin.audit');
let ipSeq = 0;
const nextIp = () => `10.1.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}`;

describe('admin authentication', () => {
  it.each([
    ['no token', undefined],
    ['a wrong token', 'not-the-token'],
    ['a token one character short', 'canary-admin-token-7f3a9c1e5b8d2f4a6'],
    ['the token with a trailing space', 'canary-admin-token-7f3a9c1e5b8d2f4a6c '],
    ['the verify token', 'canary-verify-token-2d8e4f6a0c'],
  ])('answers 401 with a body that names the header and reveals nothing else for %s', async (_label, token) => {
    const h = await harness();

    const res = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', ...(token !== undefined && { headers: { 'x-admin-token': token } }) });

    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'Missing or invalid admin token: send it in the x-admin-token header' },
      requestId: res.headers['x-request-id'],
    });
  });

  it('accepts the current token', async () => {
    const h = await harness();

    const res = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(200);
  });

  it('accepts the previous token within its grace window, and not after', async () => {
    const clock = new FakeClock(Date.now());
    const h = await harness({ env: { ...testSecrets(db.url, SHARED_REDIS_URL), ADMIN_TOKEN: 'new-admin-token-0123456789abcdefghij', ADMIN_TOKEN_PREVIOUS: 'old-admin-token-0123456789abcdefghij', ADMIN_TOKEN_ROTATED_AT: new Date(clock.now()).toISOString() }, clock, graceMs: 60_000 });
    const call = (token: string) => h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers: { 'x-admin-token': token } });

    expect((await call('old-admin-token-0123456789abcdefghij')).statusCode).toBe(200);
    expect((await call('new-admin-token-0123456789abcdefghij')).statusCode).toBe(200);
    await clock.advance(60_001);
    expect((await call('old-admin-token-0123456789abcdefghij')).statusCode).toBe(401);
    expect((await call('new-admin-token-0123456789abcdefghij')).statusCode).toBe(200);
  });

  it('protects unknown admin paths too, answering 404 only after authentication', async () => {
    const h = await harness();

    expect((await h.app.inject({ method: 'GET', url: '/admin/nothing-here' })).statusCode).toBe(401);
    const res = await h.app.inject({ method: 'DELETE', url: '/admin/nothing-here', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('writes one audit event per admin call, allowed or refused, without the token', async () => {
    const h = await harness();
    const ip = nextIp();

    await h.app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: ip, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });
    await h.app.inject({ method: 'GET', url: '/admin/salons?limit=5', remoteAddress: ip, headers: { 'x-admin-token': 'wrong-guess-123' } });

    const events = auditLines(h);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ clientAddress: ip, action: 'GET /admin/secrets/health', outcome: 'allowed', statusCode: 200, credential: 'current' });
    expect(events[1]).toMatchObject({ clientAddress: ip, action: 'GET /admin/salons', outcome: 'denied', statusCode: 401 });
    for (const e of events) {
      expect(e.requestId).toEqual(expect.any(String));
      expect(Date.parse(String(e.at))).not.toBeNaN();
    }
    expect(h.logs.text()).not.toContain(h.env.ADMIN_TOKEN!);
    expect(h.logs.text()).not.toContain('wrong-guess-123');
  });
});

describe('brute-force throttling', () => {
  async function tenFailures(h: Harness, ip: string): Promise<number[]> {
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) {
      codes.push((await h.app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: ip, headers: { 'x-admin-token': `guess-${i}` } })).statusCode);
    }
    return codes;
  }

  it('answers 429 with Retry-After after 10 failures in 10 minutes, even to the right token', async () => {
    const h = await harness();
    const ip = nextIp();

    const codes = await tenFailures(h, ip);
    const blocked = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: ip, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });
    const otherClient = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: nextIp(), headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(codes).toEqual(Array(10).fill(401));
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(590);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect(blocked.json().error.code).toBe('TOO_MANY_ATTEMPTS');
    expect(auditLines(h).at(-2)).toMatchObject({ outcome: 'throttled', statusCode: 429, clientAddress: ip });
    expect(otherClient.statusCode).toBe(200);
  });

  it('holds across instances sharing Redis', async () => {
    const first = await harness();
    const keyPrefix = `test-admin-auth-shared:${Date.now()}:`;
    const a = await harness({ throttle: createFailureThrottle({ redis: first.redis, keyPrefix }) });
    const b = await harness({ throttle: createFailureThrottle({ redis: first.redis, keyPrefix }) });
    const ip = nextIp();

    for (let i = 0; i < 5; i++) await a.app.inject({ method: 'GET', url: '/admin/salons', remoteAddress: ip, headers: { 'x-admin-token': 'x' } });
    for (let i = 0; i < 5; i++) await b.app.inject({ method: 'GET', url: '/admin/salons', remoteAddress: ip, headers: { 'x-admin-token': 'x' } });
    const res = await a.app.inject({ method: 'GET', url: '/admin/salons', remoteAddress: ip, headers: { 'x-admin-token': a.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(429);
  });

  it('still throttles, per instance and without delay, when Redis is down', async () => {
    const h = await harness({ env: testSecrets(db.url, `redis://127.0.0.1:${await freePort()}`) });
    const ip = nextIp();

    const started = Date.now();
    const codes = await tenFailures(h, ip);
    const blocked = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: ip, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(codes).toEqual(Array(10).fill(401));
    expect(blocked.statusCode).toBe(429);
    // The window runs from the first failure on the real clock: 600 only if the 429 came within a
    // second of it, which a loaded machine does not promise (the same bounds as with Redis up).
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(590);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('lets the client back in when the window ends', async () => {
    const clock = new FakeClock(Date.now());
    const h = await harness({ env: testSecrets(db.url, `redis://127.0.0.1:${await freePort()}`), clock });
    const ip = nextIp();

    await tenFailures(h, ip);
    await clock.advance(10 * 60_000);
    const res = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', remoteAddress: ip, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(200);
  });
});

describe('GET /admin/secrets/health', () => {
  it("answers the seed's shape with version, refresh time and error code per secret, and no value", async () => {
    const h = await harness();

    const res = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    const body = res.json();
    expect(body).toMatchObject({ status: 'healthy', source: 'Environment variables', region: null, totalSecrets: 11, secretsLoaded: 9 });
    expect(Object.keys(body.secrets)).toHaveLength(11);
    expect(body.secrets.ADMIN_TOKEN).toMatchObject({ loaded: true, required: true, hasDefault: false, versionId: null, lastErrorCode: null });
    expect(body.secrets.ADMIN_TOKEN.lastRefresh).toEqual(expect.any(String));
    expect(body.secrets.OPENAI_MODEL).toMatchObject({ loaded: true, required: false, hasDefault: true, usingDefault: true });
    expect(body.secrets.WHATSAPP_ACCESS_TOKEN).toMatchObject({ loaded: false, required: false, hasDefault: false });
    for (const value of Object.values(h.env)) if (value !== undefined) expect(res.body).not.toContain(value);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('POST /admin/refresh-secrets', () => {
  it('refreshes and names what changed, and tells the other instances', async () => {
    const notices: [string, readonly string[]][] = [];
    const h = await harness({ broadcast: { publish: async (reason, names) => (notices.push([reason, names]), true) } });
    h.env.META_APP_SECRET = 'rotated-app-secret-0123456789abcdef';
    h.env.OPENAI_API_KEY = 'sk-rotated';

    const res = await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, changed: ['META_APP_SECRET', 'OPENAI_API_KEY'], failed: [], notifiedOtherInstances: true });
    expect(notices).toEqual([['admin-refresh', h.engine.catalog.entries.map((e) => e.name)]]);
    expect(h.engine.accepted('META_APP_SECRET')[0]).toBe('rotated-app-secret-0123456789abcdef');
    expect(res.body).not.toContain('rotated');
  });

  it('with ?names=, refreshes only those and names only those in the notice', async () => {
    const notices: [string, readonly string[]][] = [];
    const h = await harness({ broadcast: { publish: async (reason, names) => (notices.push([reason, names]), true) } });
    h.env.META_APP_SECRET = 'rotated-app-secret-0123456789abcdef';
    h.env.OPENAI_API_KEY = 'sk-rotated';

    const res = await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets?names=OPENAI_API_KEY,ADMIN_TOKEN', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.json()).toMatchObject({ success: true, changed: ['OPENAI_API_KEY'] });
    expect(notices).toEqual([['admin-refresh', ['OPENAI_API_KEY', 'ADMIN_TOKEN']]]);
    expect(h.engine.accepted('META_APP_SECRET')[0]).not.toBe('rotated-app-secret-0123456789abcdef');
  });

  it('with ?names=, moves the last refresh of the named secrets and of the instance (with its kind) in GET /admin/secrets/health', async () => {
    const clock = new FakeClock(Date.now());
    const h = await harness({ clock });
    const headers = { 'x-admin-token': h.env.ADMIN_TOKEN! };
    const before = (await h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers })).json();
    await clock.advance(60_000);
    h.env.OPENAI_API_KEY = 'sk-rotated';

    await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets?names=OPENAI_API_KEY', headers });
    const after = (await h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers })).json();

    const moved = new Date(clock.now()).toISOString();
    expect(after.lastAnyRefresh).toEqual({ at: moved, kind: 'names', reason: 'forced' });
    expect(after.secrets.OPENAI_API_KEY.lastRefresh).toBe(moved);
    expect(after.secrets.ADMIN_TOKEN.lastRefresh).toBe(before.secrets.ADMIN_TOKEN.lastRefresh);
    expect(after.lastRefresh).toBe(before.lastRefresh);
    expect(before.lastAnyRefresh).toMatchObject({ kind: 'full', reason: 'startup' });
  });

  it('refuses unknown or repeated names in ?names= without echoing them, and refreshes nothing', async () => {
    const notices: string[] = [];
    const h = await harness({ broadcast: { publish: async (reason) => (notices.push(reason), true) } });

    const unknown = await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets?names=ADMIN_TOKEN,CANARY_NAME_x1', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });
    const repeated = await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets?names=ADMIN_TOKEN,ADMIN_TOKEN', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect([unknown.statusCode, repeated.statusCode]).toEqual([400, 400]);
    expect(unknown.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(unknown.body).not.toContain('CANARY_NAME_x1');
    expect(notices).toEqual([]);
  });

  it('waits for a refresh already in flight, which may have read the store before the change, and reads again', async () => {
    const inner = new MemorySource(() => Date.now());
    for (const [name, value] of Object.entries(testSecrets(db.url, SHARED_REDIS_URL))) inner.put(name, value);
    let hold: { read: () => void; release: Promise<void> } | undefined;
    const source: SecretSource = {
      kind: inner.kind,
      description: inner.description,
      region: inner.region,
      load: async (entries, signal) => {
        const result = await inner.load(entries, signal);
        const h = hold;
        hold = undefined;
        if (h !== undefined) {
          h.read();
          await h.release;
        }
        return result;
      },
      loadPrevious: (entries, signal) => inner.loadPrevious(entries, signal),
    };
    const h = await harness({ source });
    let release!: () => void;
    const read = new Promise<void>((resolve) => (hold = { read: resolve, release: new Promise<void>((r) => (release = r)) }));
    const stale = h.engine.refresh();
    await read;
    inner.put('META_APP_SECRET', 'rotated-after-the-read-0123456789abcdef');

    const answered = h.app.inject({ method: 'POST', url: '/admin/refresh-secrets', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });
    // The route has reached the engine while the stale refresh is still in flight.
    await waitFor(() => h.logs.lines().some((l) => l.event === 'secrets.refresh_forced' && l.fresh === true));
    release();
    const res = await answered;
    await stale;

    expect(res.json()).toMatchObject({ success: true, changed: ['META_APP_SECRET'] });
    expect(h.engine.accepted('META_APP_SECRET')[0]).toBe('rotated-after-the-read-0123456789abcdef');
  });

  it('does not list optional secrets that were never created as failed', async () => {
    const source = new MemorySource(() => Date.now());
    for (const [name, value] of Object.entries(testSecrets(db.url, SHARED_REDIS_URL))) source.put(name, value);
    source.put('WHATSAPP_PHONE_NUMBER_ID', 'pn-1');
    const h = await harness({ source });
    source.failSecret.set('WHATSAPP_PHONE_NUMBER_ID', { name: 'WHATSAPP_PHONE_NUMBER_ID', code: 'ResourceNotFoundException', transient: false });

    const res = await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    // WHATSAPP_ACCESS_TOKEN and the OPENAI_* defaults were never created: not failures. A secret
    // that had a value and is now gone is one.
    expect(res.json()).toMatchObject({ success: true, failed: [{ name: 'WHATSAPP_PHONE_NUMBER_ID', code: 'ResourceNotFoundException' }] });
  });

  it('accepts a JSON body like any other route (only the webhook keeps raw bytes)', async () => {
    const h = await harness();

    const res = await h.app.inject({
      method: 'POST',
      url: '/admin/refresh-secrets',
      headers: { 'x-admin-token': h.env.ADMIN_TOKEN!, 'content-type': 'application/json' },
      payload: '{"why":"rotation"}',
    });

    expect(res.statusCode).toBe(200);
    expect(res.json().changed).toEqual([]);
  });

  it('answers 502 with the error code, and says cached values are still served, when the store fails', async () => {
    const source = new MemorySource(() => Date.now());
    for (const [name, value] of Object.entries(testSecrets(db.url, SHARED_REDIS_URL))) source.put(name, value);
    const h = await harness({ source });
    source.failAll = new SourceError('AccessDeniedException', false);

    const res = await h.app.inject({ method: 'POST', url: '/admin/refresh-secrets', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({
      success: false,
      error: { code: 'SECRETS_REFRESH_FAILED' },
      sourceCode: 'AccessDeniedException',
      transient: false,
      servingCachedValues: true,
    });
    expect(h.engine.accepted('ADMIN_TOKEN')).toEqual([h.env.ADMIN_TOKEN]);
  });

  it('is rate-limited per client', async () => {
    const h = await harness({ options: { refreshPerMinute: 2 } });
    const call = () => h.app.inject({ method: 'POST', url: '/admin/refresh-secrets', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    const codes = [(await call()).statusCode, (await call()).statusCode];
    const limited = await call();

    expect(codes).toEqual([200, 200]);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('GET /admin/salons', () => {
  it('lists salons from PostgreSQL a bounded page at a time', async () => {
    const h = await harness();
    await h.database.query("INSERT INTO salons (name, phone_number_id) SELECT 'Salon ' || g, 'pn-' || g FROM generate_series(1, 7) g");
    const get = (qs: string) => h.app.inject({ method: 'GET', url: `/admin/salons${qs}`, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    const first = (await get('?limit=3')).json();
    const second = (await get(`?limit=3&after=${first.nextCursor}`)).json();
    const last = (await get(`?limit=3&after=${second.nextCursor}`)).json();

    expect(first.salons.map((s: { name: string }) => s.name)).toEqual(['Salon 1', 'Salon 2', 'Salon 3']);
    expect(first.salons[0]).toEqual({ id: expect.any(String), name: 'Salon 1', phoneNumberId: 'pn-1', createdAt: expect.any(String) });
    expect(second.salons.map((s: { name: string }) => s.name)).toEqual(['Salon 4', 'Salon 5', 'Salon 6']);
    expect(last).toMatchObject({ nextCursor: null, limit: 3 });
    expect(last.salons).toHaveLength(1);
    await h.database.query('TRUNCATE salons');
  });

  it('defaults to 50 and refuses pages over 100 or a malformed cursor', async () => {
    const h = await harness();
    const get = (qs: string) => h.app.inject({ method: 'GET', url: `/admin/salons${qs}`, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect((await get('')).json().limit).toBe(50);
    expect((await get('?limit=101')).statusCode).toBe(400);
    expect((await get('?limit=0')).statusCode).toBe(400);
    const bad = await get("?after=1;DROP%20TABLE%20salons");
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'after must be the nextCursor of a previous page (digits only)' }, requestId: expect.any(String) });
  });

  it.each([
    ['?limit=101', 'limit must be an integer from 1 to 100'],
    ['?limit=0', 'limit must be an integer from 1 to 100'],
    ['?limit=abc', 'limit must be an integer from 1 to 100'],
    ['?limit=1&limit=2', 'limit must be an integer from 1 to 100'],
    ['?after=xyz', 'after must be the nextCursor of a previous page (digits only)'],
  ])('answers %s with 400 and a reason naming the parameter and its rule', async (qs, reason) => {
    const h = await harness();

    const res = await h.app.inject({ method: 'GET', url: `/admin/salons${qs}`, headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: reason }, requestId: expect.any(String) });
    // The error, not the body: the random requestId may contain "abc".
    expect(JSON.stringify(res.json().error)).not.toMatch(/abc|xyz/);
  });

  it('answers 503 with a generic body while PostgreSQL is unreachable', async () => {
    const h = await harness({ env: testSecrets(`postgresql://postgres@127.0.0.1:${await freePort()}/x`, SHARED_REDIS_URL), waitForDatabase: false });

    const res = await h.app.inject({ method: 'GET', url: '/admin/salons', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable; retry later' }, requestId: expect.any(String) });
  });
});
