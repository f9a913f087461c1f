import type { FastifyPluginAsync } from 'fastify';
import { type DependencyHealthAge, type HealthChecks, withAge } from '../health-checks.js';
import type { SecretsHealthView } from '../secrets-status-view.js';
import { secretsHealthView } from '../secrets-status-view.js';
import { placeholderSecrets } from '../placeholder-secrets.js';
import type { ServiceEngine } from '../service-engine.js';

export interface HealthzBody {
  /**
   * ok; degraded (a dependency down, or secrets served from cache after failed refreshes); down
   * (503). A dependency that is `off` (not used on purpose) does not degrade.
   */
  readonly status: 'ok' | 'degraded' | 'down';
  readonly services: {
    readonly secrets: SecretsHealthView;
    readonly database: DependencyHealthAge;
    readonly redis: DependencyHealthAge;
  };
}

export interface HealthzOptions {
  readonly engine: Pick<ServiceEngine, 'status' | 'accepted'>;
  readonly health: HealthChecks<'database' | 'redis'>;
}

/**
 * GET /healthz, no auth: the seed's Monitoring shape. Names, counts and times only, never a value.
 * The database and Redis results come from a probe round shared by every caller for a short
 * interval (see createHealthChecks' `maxAgeMs`), each with its `ageMs`; the secrets part is read
 * from memory on every call.
 */
export const healthzRoutes: FastifyPluginAsync<HealthzOptions> = async (app, { engine, health }) => {
  app.get('/healthz', async (_request, reply) => {
    const report = await health.check();
    const secrets = secretsHealthView(engine.status(), placeholderSecrets(engine));
    const deps = withAge(report);
    const status: HealthzBody['status'] =
      secrets.status === 'unhealthy'
        ? 'down'
        : secrets.status === 'degraded' || deps.database.status === 'down' || deps.redis.status === 'down'
          ? 'degraded'
          : 'ok';
    const body: HealthzBody = { status, services: { secrets, database: deps.database, redis: deps.redis } };
    return reply.status(status === 'down' ? 503 : 200).header('cache-control', 'no-store').send(body);
  });
};
