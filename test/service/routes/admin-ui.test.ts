import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_UI_HTML, ADMIN_UI_SCRIPT, ADMIN_UI_STYLE } from '../../../src/service/admin-ui-assets.js';
import { ADMIN_UI_CSP } from '../../../src/service/routes/admin-ui.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../support/postgres.js';
import { SHARED_REDIS_URL, whenRedisReady } from '../support/redis-server.js';
import { startHarness, testSecrets, type Harness } from '../support/service-harness.js';

let db: ThrowawayDatabase;
let h: Harness;

beforeAll(async () => {
  db = await throwawayDatabase('svc_admin_ui');
  h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
  await whenRedisReady(h.redis);
});

afterAll(async () => {
  await h.close();
  await db.drop();
});

const ASSETS = [
  ['/admin/ui', 'text/html; charset=utf-8', ADMIN_UI_HTML],
  ['/admin/ui/', 'text/html; charset=utf-8', ADMIN_UI_HTML],
  ['/admin/ui/app.js', 'text/javascript; charset=utf-8', ADMIN_UI_SCRIPT],
  ['/admin/ui/app.css', 'text/css; charset=utf-8', ADMIN_UI_STYLE],
] as const;

describe('GET /admin/ui', () => {
  it.each(ASSETS)('serves %s without a token, as static text with its type', async (url, type, body) => {
    const res = await h.app.inject({ method: 'GET', url });

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.body).toBe(body);
  });

  it.each(ASSETS)('sends %s under a strict Content-Security-Policy that forbids framing', async (url) => {
    const res = await h.app.inject({ method: 'GET', url });

    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(res.headers).toMatchObject({ 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' });
  });

  it('needs no inline script or style: the page only links its own files', () => {
    expect(ADMIN_UI_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(ADMIN_UI_HTML.match(/<script\b[^>]*>/g)).toEqual(['<script src="/admin/ui/app.js" defer>']);
    expect(ADMIN_UI_HTML).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(ADMIN_UI_HTML).toContain('<link rel="stylesheet" href="/admin/ui/app.css">');
  });

  it('writes data into the page as text only, never as markup', () => {
    expect(ADMIN_UI_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(ADMIN_UI_SCRIPT).toContain('textContent');
  });

  it('keeps the token in session storage and sends it only as the x-admin-token header', () => {
    expect(ADMIN_UI_SCRIPT).toContain('sessionStorage');
    expect(ADMIN_UI_SCRIPT).not.toContain('localStorage');
    expect(ADMIN_UI_SCRIPT).not.toContain('document.cookie');
    expect(ADMIN_UI_SCRIPT).toContain("headers: { 'x-admin-token': t }");
  });

  it('shows the last full refresh and the last refresh of any kind, with its kind, in the summary', () => {
    expect(ADMIN_UI_SCRIPT).toContain("['Last full refresh', when(view.lastRefresh)]");
    expect(ADMIN_UI_SCRIPT).toMatch(/'Last refresh of any kind', view\.lastAnyRefresh \? when\(view\.lastAnyRefresh\.at\)/);
    expect(ADMIN_UI_SCRIPT).toContain('view.lastAnyRefresh.reason');
  });

  it('still asks for the token on everything else under /admin', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/admin/ui/other' });

    expect(res.statusCode).toBe(401);
  });
});

describe('the status page\'s data: GET /admin/secrets/health', () => {
  it('adds the dependencies, and each secret\'s source and rotation state, and no value', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/admin/secrets/health', headers: { 'x-admin-token': h.env.ADMIN_TOKEN! } });

    const body = res.json();
    expect(body.dependencies).toMatchObject({ database: { status: 'up', ageMs: expect.any(Number) }, redis: { status: 'up', ageMs: expect.any(Number) } });
    expect(Object.keys(body.secrets)).toHaveLength(11);
    expect(body.secrets.ADMIN_TOKEN).toMatchObject({ source: 'env', rotation: { schedule: '90 days', everyDays: 90, state: 'ok', dueAt: expect.any(String) } });
    expect(body.secrets.OPENAI_MODEL).toMatchObject({ source: 'default', rotation: { state: 'n/a' } });
    for (const value of Object.values(h.env)) if (value !== undefined) expect(res.body).not.toContain(value);
  });
});
