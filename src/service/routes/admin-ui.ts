import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ADMIN_UI_HTML, ADMIN_UI_SCRIPT, ADMIN_UI_STYLE } from '../admin-ui-assets.js';

/**
 * Only same-origin script, style and fetch; no inline script or style, no images, fonts, frames,
 * forms or plugins; never framed (clickjacking the "Refresh now" button).
 */
export const ADMIN_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': ADMIN_UI_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/**
 * GET /admin/ui (and its script and stylesheet): the status page. Registered beside the admin
 * routes, not inside them, so it loads without the token: it is the same static text for
 * everyone and holds no data. Every data call it makes goes to the admin API
 * (/admin/secrets/health, /admin/refresh-secrets) with the token, through admin auth, its
 * throttle and its audit log.
 */
export const adminUiRoutes: FastifyPluginAsync = async (app) => {
  const asset = (type: string, body: string) => async (_request: unknown, reply: FastifyReply) =>
    reply.headers({ ...SECURITY_HEADERS, 'content-type': type }).send(body);
  const page = asset('text/html; charset=utf-8', ADMIN_UI_HTML);
  app.get('/admin/ui', page);
  app.get('/admin/ui/', page);
  app.get('/admin/ui/app.js', asset('text/javascript; charset=utf-8', ADMIN_UI_SCRIPT));
  app.get('/admin/ui/app.css', asset('text/css; charset=utf-8', ADMIN_UI_STYLE));
};
