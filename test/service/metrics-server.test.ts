import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { EngineStatus } from '../../src/engine/index.js';
import { createMetrics } from '../../src/service/metrics.js';
import { METRICS_NOT_SERVED_EVENT, startMetricsListener } from '../../src/service/metrics-server.js';
import { captureLogger } from '../support/capture-logger.js';

const metrics = () => createMetrics({ status: () => ({ secretsLoaded: 9, requiredSecretsOk: true, cacheAgeMs: 0, consecutiveFailures: 0, secrets: {} }) as unknown as EngineStatus });
const started: FastifyInstance[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

describe('startMetricsListener', () => {
  it('serves GET /metrics, and nothing else, on a listener of its own', async () => {
    const logger = captureLogger();

    const server = (await startMetricsListener({ kind: 'own', host: '127.0.0.1', port: 0 }, metrics(), logger))!;
    started.push(server);
    const base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
    const scrape = await fetch(`${base}/metrics`);

    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('secrets_refresh_notices_total{result="applied"} 0');
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
    expect(logger.lines.map((l) => l.obj.event)).toEqual(['service.metrics_listening']);
  });

  it('serves nothing and warns, naming METRICS_PORT, when HOST is public and no METRICS_PORT is set', async () => {
    const logger = captureLogger();

    const server = await startMetricsListener({ kind: 'off', reason: 'public-host' }, metrics(), logger);

    expect(server).toBeUndefined();
    expect(logger.lines).toEqual([{ level: 'warn', obj: { event: METRICS_NOT_SERVED_EVENT, reason: 'public-host' }, msg: expect.stringContaining('METRICS_PORT') }]);
  });

  it('serves nothing and says nothing when turned off, or when the API port serves it', async () => {
    const logger = captureLogger();

    expect(await startMetricsListener({ kind: 'off', reason: 'disabled' }, metrics(), logger)).toBeUndefined();
    expect(await startMetricsListener({ kind: 'main' }, metrics(), logger)).toBeUndefined();
    expect(logger.lines).toEqual([]);
  });

  it('rejects with the listen error code when its port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(startMetricsListener({ kind: 'own', host: '127.0.0.1', port }, metrics(), captureLogger())).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      taken.close();
    }
  });
});
