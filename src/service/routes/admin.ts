import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../engine/index.js';
import { systemClock } from '../../engine/index.js';
import type { AdminAuth } from '../admin-auth.js';
import type { Database } from '../database.js';
import { errorBody } from '../error-handler.js';
import type { HealthChecks } from '../health-checks.js';
import type { RefreshBroadcast } from '../refresh-broadcast.js';
import { listSalons, MAX_SALONS_PAGE } from '../salons-repository.js';
import { secretsAdminView } from '../secrets-status-view.js';
import type { ServiceEngine } from '../service-engine.js';

export interface AdminRoutesOptions {
  readonly engine: ServiceEngine;
  readonly auth: AdminAuth;
  readonly database: Pick<Database, 'query'>;
  readonly broadcast?: Pick<RefreshBroadcast, 'publish'>;
  /** Refresh calls allowed per client per minute (each may cost calls to the secret store). */
  readonly refreshPerMinute?: number;
  /** The /healthz probes: GET /secrets/health adds `dependencies` from them (for the status page). */
  readonly health?: HealthChecks<'database' | 'redis'>;
  /** Now, for rotation due dates. */
  readonly clock?: Clock;
}

class RateLimitedError extends Error {
  readonly code = 'RATE_LIMITED';
  readonly statusCode = 429;
}

/**
 * /admin/*: every route behind the admin token (see admin-auth.ts), audited, including unknown
 * admin paths, which answer 404 only after authentication.
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, options) => {
  const { engine, auth, database, broadcast, refreshPerMinute = 10, health, clock = systemClock } = options;
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: () => new RateLimitedError('Rate limit exceeded'),
  });
  app.addHook('onRequest', auth.onRequest);
  app.addHook('onResponse', auth.onResponse);
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
  });

  app.get('/secrets/health', async () => ({
    ...secretsAdminView(engine.status(), { nowMs: clock.now() }),
    ...(health !== undefined && { dependencies: await health.check() }),
  }));

  app.post('/refresh-secrets', { config: { rateLimit: { max: refreshPerMinute, timeWindow: 60_000 } } }, async (request, reply) => {
    // Tell the other instances first: they refresh in parallel with this one.
    const notified = broadcast === undefined ? false : await broadcast.publish('admin-refresh');
    const outcome = await engine.refresh();
    if (!outcome.ok) {
      return reply.status(502).send({
        success: false,
        ...errorBody({ status: 502, code: 'SECRETS_REFRESH_FAILED', message: 'The secret store could not be read; cached values are still served' }, request.id),
        sourceCode: outcome.code,
        transient: outcome.transient,
        servingCachedValues: true,
        notifiedOtherInstances: notified,
      });
    }
    return {
      success: true,
      changed: outcome.changed.map((c) => c.name),
      failed: outcome.failed.filter((f) => f.code !== 'NotSet').map((f) => ({ name: f.name, code: f.code })),
      notifiedOtherInstances: notified,
      lastRefresh: engine.status().lastRefresh,
    };
  });

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/salons',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: MAX_SALONS_PAGE, default: 50 },
            after: { type: 'string', pattern: '^[0-9]{1,18}$' },
          },
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const page = await listSalons(database, { limit, ...(after !== undefined && { after }) });
      return { ...page, limit };
    },
  );

  app.all('/*', async (request, reply) => reply.status(404).send(errorBody({ status: 404, code: 'NOT_FOUND', message: 'Not found' }, request.id)));
};
