import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps, type AppOptions } from '../../../src/service/app.js';
import type { FailureThrottle } from '../../../src/service/failure-throttle.js';
import { createLogger } from '../../../src/service/logger.js';
import { captureLogs, type LogCapture } from './log-capture.js';
import { isolatedThrottle, type Harness } from './service-harness.js';

export interface ListeningApp {
  readonly app: FastifyInstance;
  readonly port: number;
  /** Every line this app logged (request lines off). */
  readonly logs: LogCapture;
}

/**
 * An app over a harness's engine, database and Redis that really listens on a free loopback port:
 * for what `inject()` skips (Node's HTTP parser, deadlines, sockets). Close `app` when done.
 */
export async function listenApp(
  h: Harness,
  over: { throttle?: FailureThrottle; options?: Partial<AppOptions>; webhookIngest?: AppDeps['webhookIngest'] } = {},
): Promise<ListeningApp> {
  const logs = captureLogs();
  const app = await buildApp({
    engine: h.engine,
    database: h.database,
    redis: h.redis,
    throttle: over.throttle ?? isolatedThrottle(h.redis),
    logger: createLogger({ level: 'info', destination: logs.stream }),
    options: { logRequests: false, ...over.options },
    ...(over.webhookIngest !== undefined && { webhookIngest: over.webhookIngest }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as AddressInfo).port, logs };
}
