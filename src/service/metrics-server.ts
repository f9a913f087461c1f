import Fastify, { type FastifyInstance } from 'fastify';
import { frameworkErrorHandler, handleClientError, registerErrorHandling } from './error-handler.js';
import type { Metrics } from './metrics.js';
import { metricsRoutes } from './routes/metrics.js';

/**
 * The listener of METRICS_PORT: GET /metrics and nothing else, so the port a load balancer
 * forwards (PORT) never serves it. No request log lines: a scrape every few seconds is not news.
 */
export async function buildMetricsServer(metrics: Metrics): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, clientErrorHandler: handleClientError, frameworkErrors: frameworkErrorHandler });
  registerErrorHandling(app);
  await app.register(metricsRoutes, { metrics });
  return app;
}
