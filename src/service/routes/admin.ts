import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import type { WhatsappSaasSpec } from '../../catalog/whatsapp-saas.js';
import type { Clock, SecretName } from '../../engine/index.js';
import { systemClock } from '../../engine/index.js';
import type { AdminAuth } from '../admin-auth.js';
import type { Database } from '../database.js';
import { errorBody } from '../error-handler.js';
import { type HealthChecks, withAge } from '../health-checks.js';
import type { RefreshBroadcast } from '../refresh-broadcast.js';
import { listSalons, MAX_SALONS_PAGE } from '../salons-repository.js';
import { secretsAdminView } from '../secrets-status-view.js';
import { placeholderSecrets } from '../placeholder-secrets.js';
import type { ServiceEngine } from '../service-engine.js';

type WhatsappSaasName = SecretName<WhatsappSaasSpec>;

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

/** What each /admin/salons query parameter accepts, said to the caller when a request breaks it. */
const SALONS_QUERY_RULES: Readonly<Record<string, string>> = {
  limit: `limit must be an integer from 1 to ${MAX_SALONS_PAGE}`,
  after: 'after must be the nextCursor of a previous page (digits only)',
};

/**
 * The reason for a refused /admin/salons query, naming the parameter and its rule. Built from
 * our own table: never the value. (Unknown parameters are dropped by Fastify's validator.)
 */
export function salonsQueryProblem(validation: readonly { instancePath?: string }[]): string {
  for (const v of validation) {
    const name = v.instancePath?.replace(/^\//, '') ?? '';
    if (SALONS_QUERY_RULES[name] !== undefined) return SALONS_QUERY_RULES[name];
  }
  return `${SALONS_QUERY_RULES.limit}; ${SALONS_QUERY_RULES.after}`;
}

/** The `names` query of POST /admin/refresh-secrets: catalog names, each once; never echoed back. */
function refreshNames(query: string | undefined, known: readonly WhatsappSaasName[]): WhatsappSaasName[] | undefined | 'invalid' {
  if (query === undefined) return undefined;
  const names = query.split(',').map((n) => n.trim());
  if (names.length > known.length || new Set(names).size !== names.length) return 'invalid';
  if (!names.every((n) => (known as readonly string[]).includes(n))) return 'invalid';
  return names as WhatsappSaasName[];
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
    ...secretsAdminView(engine.status(), { nowMs: clock.now(), placeholders: placeholderSecrets(engine) }),
    ...(health !== undefined && { dependencies: withAge(await health.check()) }),
  }));

  app.post<{ Querystring: { names?: string } }>('/refresh-secrets', { config: { rateLimit: { max: refreshPerMinute, timeWindow: 60_000 } } }, async (request, reply) => {
    // ?names=ADMIN_TOKEN,META_VERIFY_TOKEN: only those (what `secrets rotate --notify` asks for);
    // without it, every secret.
    const known = Object.keys(engine.status().secrets) as WhatsappSaasName[];
    const asked = refreshNames(request.query.names, known);
    if (asked === 'invalid') {
      return reply.status(400).send(errorBody({ status: 400, code: 'BAD_REQUEST', message: 'names must be a comma-separated list of catalog secret names' }, request.id));
    }
    const names = asked ?? known;
    // Tell the other instances first: they refresh in parallel with this one.
    const notified = broadcast === undefined ? false : await broadcast.publish('admin-refresh', names);
    // Fresh: never an attempt in flight that may have read the store before the change the caller
    // is announcing, so "refreshed" means the value is in.
    const outcome = await engine.refresh({ fresh: true, ...(asked !== undefined && { names: asked }) });
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
      // The engine's own list: an optional secret that was never created is not in it.
      failed: outcome.failed.map((f) => ({ name: f.name, code: f.code })),
      notifiedOtherInstances: notified,
      lastRefresh: engine.status().lastRefresh,
    };
  });

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/salons',
    {
      // Validation errors are answered here, with the parameter and its rule, not as a bare "Bad request".
      attachValidation: true,
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
    async (request, reply) => {
      if (request.validationError !== undefined) {
        const reason = salonsQueryProblem(request.validationError.validation ?? []);
        return reply.status(400).send(errorBody({ status: 400, code: 'BAD_REQUEST', message: reason }, request.id));
      }
      const { limit, after } = request.query;
      const page = await listSalons(database, { limit, ...(after !== undefined && { after }) });
      return { ...page, limit };
    },
  );

  app.all('/*', async (request, reply) => reply.status(404).send(errorBody({ status: 404, code: 'NOT_FOUND', message: 'Not found' }, request.id)));
};
