import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceEngine } from './service-engine.js';

export interface Metrics {
  readonly registry: Registry;
  onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/**
 * Prometheus metrics: request counts and latency by route (the route pattern, never the raw URL,
 * so no query string reaches a label), and the secrets cache's state read at scrape time.
 */
export function createMetrics(engine: Pick<ServiceEngine, 'status'>): Metrics {
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('secrets_loaded', 'Secrets currently loaded', () => engine.status().secretsLoaded);
  gauge('secrets_required_ok', '1 when every required secret is loaded', () => (engine.status().requiredSecretsOk ? 1 : 0));
  gauge('secrets_cache_age_seconds', 'Seconds since the last successful secrets load', () => (engine.status().cacheAgeMs ?? 0) / 1000);
  gauge('secrets_refresh_consecutive_failures', 'Failed secrets refreshes in a row', () => engine.status().consecutiveFailures);

  return {
    registry,
    async onResponse(request, reply) {
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    },
  };
}
