import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

/**
 * GET /metrics for Prometheus. Unauthenticated like /healthz and as value-free; keep it off the
 * public load balancer listener all the same.
 */
export const metricsRoutes: FastifyPluginAsync<{ readonly metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
};
