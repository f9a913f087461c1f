import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../engine/index.js';
import type { MetricsExposure } from './config.js';
import { frameworkErrorHandler, handleClientError, registerErrorHandling } from './error-handler.js';
import type { Metrics } from './metrics.js';
import { metricsRoutes } from './routes/metrics.js';

/** The event logged when a non-loopback HOST without METRICS_PORT leaves /metrics unserved. */
export const METRICS_NOT_SERVED_EVENT = 'service.metrics_not_served';

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

/**
 * Serves /metrics where `exposure` says: on a listener of its own (resolved once it listens; a
 * listen failure rejects with the server's error, its `code` intact), or nowhere, saying why when
 * that is the public-HOST rule rather than a choice. `main` is the app's business: nothing here.
 */
export async function startMetricsListener(exposure: MetricsExposure, metrics: Metrics, logger: Logger): Promise<FastifyInstance | undefined> {
  if (exposure.kind === 'off' && exposure.reason === 'public-host') {
    logger.warn(
      { event: METRICS_NOT_SERVED_EVENT, reason: exposure.reason },
      'GET /metrics is not served: HOST is not a loopback address and METRICS_PORT is not set. Set METRICS_PORT (and METRICS_HOST) to serve it on a listener of its own, or METRICS_PORT=off',
    );
  }
  if (exposure.kind !== 'own') return undefined;
  const server = await buildMetricsServer(metrics);
  try {
    await server.listen({ port: exposure.port, host: exposure.host });
  } catch (err) {
    await server.close();
    throw err;
  }
  const address = server.server.address();
  logger.info(
    { event: 'service.metrics_listening', host: exposure.host, port: typeof address === 'object' && address !== null ? address.port : exposure.port },
    'Metrics listening',
  );
  return server;
}
