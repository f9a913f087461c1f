import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Clock } from '../engine/index.js';
import { silentLogger, systemClock } from '../engine/index.js';
import { createAdminAuth } from './admin-auth.js';
import type { AuditLog } from './audit-log.js';
import { createAuditLog } from './audit-log.js';
import {
  DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
  DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_REQUESTS_PER_SOCKET,
  DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
  DEFAULT_WEBHOOK_BODY_LIMIT_BYTES,
  type TrustProxy,
} from './config.js';
import type { Database } from './database.js';
import { DatabaseUnavailableError } from './errors.js';
import { frameworkErrorHandler, handleClientError, registerErrorHandling } from './error-handler.js';
import type { FailureThrottle } from './failure-throttle.js';
import { createFailureThrottle } from './failure-throttle.js';
import { createHealthChecks } from './health-checks.js';
import type { ServiceLogger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { RefreshBroadcast } from './refresh-broadcast.js';
import { RequestLogController } from './request-log.js';
import { adminRoutes } from './routes/admin.js';
import { adminUiRoutes } from './routes/admin-ui.js';
import { healthzRoutes } from './routes/healthz.js';
import { metricsRoutes } from './routes/metrics.js';
import { webhookRoutes } from './routes/webhook.js';
import type { ServiceEngine } from './service-engine.js';
import { DEFAULT_WEBHOOK_INGEST, WebhookIngest, type CommittedGroup, type WebhookIngestHooks } from './webhook-ingest.js';

export interface AppOptions {
  readonly webhookBodyLimitBytes: number;
  /** Webhook events accepted and not yet committed; beyond it, 503 with Retry-After (see WebhookIngest). */
  readonly webhookQueueMax: number;
  /** Webhook events committed together in one transaction at most. */
  readonly webhookGroupMax: number;
  /** Webhook groups written at once, each on its own connection of the pool. */
  readonly webhookGroupsInFlight: number;
  /** See ServiceConfig.trustProxy: false, a hop count, or proxy addresses; never `true`. */
  readonly trustProxy: TrustProxy;
  /** Deadline of each dependency probe behind /healthz. */
  readonly healthTimeoutMs: number;
  /** How long one database + Redis probe round answers every /healthz caller (0: a round per call). */
  readonly healthMaxAgeMs: number;
  readonly refreshPerMinute: number;
  /** Serve GET /metrics on this app (false when it has a listener of its own, METRICS_PORT, or none). */
  readonly metrics: boolean;
  /** Fastify's "incoming request"/"request completed" lines (audit events are separate and always on). */
  readonly logRequests: boolean;
  /** Deadlines of a listening server (see ServiceConfig); `inject()` does not use them. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxRequestsPerSocket: number;
}

const DEFAULT_OPTIONS: AppOptions = {
  webhookBodyLimitBytes: DEFAULT_WEBHOOK_BODY_LIMIT_BYTES,
  webhookQueueMax: DEFAULT_WEBHOOK_INGEST.maxPending,
  webhookGroupMax: DEFAULT_WEBHOOK_INGEST.maxGroup,
  webhookGroupsInFlight: DEFAULT_WEBHOOK_INGEST.groupsInFlight,
  trustProxy: false,
  healthTimeoutMs: 1_000,
  healthMaxAgeMs: 1_000,
  refreshPerMinute: 10,
  metrics: true,
  logRequests: true,
  headersTimeoutMs: DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS,
  maxRequestsPerSocket: DEFAULT_HTTP_MAX_REQUESTS_PER_SOCKET,
};

/** Everything the HTTP app uses, created by the composition root (the entry, or a test). */
export interface AppDeps {
  readonly engine: ServiceEngine;
  readonly database: Pick<Database, 'query' | 'ping' | 'status'>;
  /** The command connection (throttle counters, health ping). */
  readonly redis: Pick<Redis, 'eval' | 'ping' | 'status'>;
  readonly logger: ServiceLogger;
  readonly broadcast?: Pick<RefreshBroadcast, 'publish'>;
  readonly throttle?: FailureThrottle;
  readonly audit?: AuditLog;
  readonly clock?: Clock;
  /**
   * The service's metrics, when the entry also feeds them from the engine (AWS calls, refreshes,
   * notices); otherwise the app makes its own. Counted whether or not this app serves /metrics.
   */
  readonly metrics?: Metrics;
  readonly options?: Partial<AppOptions>;
  /** The webhook's group commit; by default one over `database` with the options' sizes. Tests pass one to watch it. */
  readonly webhookIngest?: Pick<WebhookIngest, 'submit'>;
  /**
   * No Redis at all (`npm run dev` without one, see dev-dependencies.ts): the throttle counts in
   * memory without warning about it, and /healthz reports redis `off`, which is not a fault.
   */
  readonly singleInstance?: boolean;
}

/** Builds the Fastify app without listening: the entry listens, tests use `app.inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { engine, database, redis, logger, broadcast, clock = systemClock } = deps;
  const options = { ...DEFAULT_OPTIONS, ...deps.options };
  const throttle = deps.throttle ?? createFailureThrottle({ redis, clock, logger: deps.singleInstance === true ? silentLogger : logger });
  const audit = deps.audit ?? createAuditLog(logger);

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Our own ids: an incoming x-request-id would be attacker-chosen text in every log line.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    logController: new RequestLogController({ requestIdLogLabel: 'requestId', disableRequestLogging: !options.logRequests }),
    trustProxy: fastifyTrustProxy(options.trustProxy),
    // Admin routes take no body; the webhook has its own, larger limit.
    bodyLimit: 64 * 1024,
    // Slow clients: Node answers 408 and closes the socket once a request's headers or whole body
    // miss their deadline. It checks every `connectionsCheckingInterval` (30 s by default), so
    // check often enough that a deadline holds within about a second.
    http: {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(options.headersTimeoutMs / 2))),
    },
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    maxRequestsPerSocket: options.maxRequestsPerSocket,
    // Errors raised before routing (a malformed request line or URL, oversized headers, a
    // timeout) get the same body as every other error, and never echo the input.
    clientErrorHandler: handleClientError,
    frameworkErrors: frameworkErrorHandler,
  });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
  });
  registerErrorHandling(app);

  const metrics = deps.metrics ?? createMetrics(engine, { clock });
  app.addHook('onResponse', metrics.onResponse);
  if (options.metrics) await app.register(metricsRoutes, { metrics });

  const health = createHealthChecks({
    probes: {
      database: () => (database.status.state === 'ready' ? database.ping() : Promise.reject(new DatabaseUnavailableError(database.status.lastErrorCode ?? 'NotReady'))),
      // Disconnected: say so by code instead of ioredis's "Stream isn't writeable" message.
      redis: () => (redis.status === 'ready' ? redis.ping() : Promise.reject(Object.assign(new Error('Redis not connected'), { code: 'NotConnected' }))),
    },
    timeoutMs: options.healthTimeoutMs,
    maxAgeMs: options.healthMaxAgeMs,
    clock,
    ...(deps.singleInstance === true && { off: { redis: 'SingleInstance' } }),
  });
  await app.register(healthzRoutes, { engine, health });
  await app.register(adminRoutes, {
    prefix: '/admin',
    engine,
    auth: createAdminAuth({ engine, throttle, audit, clock, logger, metrics }),
    database,
    refreshPerMinute: options.refreshPerMinute,
    ...(broadcast !== undefined && { broadcast }),
    health,
    clock,
  });
  // The status page: static, no token to load it; its data calls go through the admin routes above.
  await app.register(adminUiRoutes);
  const ingest =
    deps.webhookIngest ??
    new WebhookIngest(
      database,
      { maxPending: options.webhookQueueMax, maxGroup: options.webhookGroupMax, groupsInFlight: options.webhookGroupsInFlight },
      webhookIngestHooks(logger, metrics, clock),
    );
  await app.register(webhookRoutes, { engine, ingest, bodyLimitBytes: options.webhookBodyLimitBytes, metrics });
  return app;
}

/**
 * The ingest's observers as the service wires them: a log line per committed group, and the
 * deliveries answered 503 on a client timeout whose events were committed all the same
 * (`webhook_events_total{result="stored-after-timeout"}` and a `webhook.stored_after_timeout` warning).
 */
export function webhookIngestHooks(logger: Pick<ServiceLogger, 'info' | 'warn'>, metrics: Pick<Metrics, 'webhookEvent'>, clock: Clock): WebhookIngestHooks {
  return {
    onCommitted: logCommittedGroup(logger),
    onStoredAfterTimeout: (events) => {
      metrics.webhookEvent('stored-after-timeout', events);
      logger.warn({ event: 'webhook.stored_after_timeout', events }, 'Webhook events answered 503 after a client timeout were committed; their redeliveries are duplicates');
    },
    clock,
  };
}

/**
 * One info line per committed webhook group (`webhook.group_committed`, counts and time), in
 * place of a line per delivery: ids and bodies are in the database, never in the log.
 */
export function logCommittedGroup(logger: Pick<ServiceLogger, 'info'>): (group: CommittedGroup) => void {
  return (group) => logger.info({ event: 'webhook.group_committed', ...group, ms: Math.round(group.ms * 100) / 100 }, 'Webhook events committed');
}

/**
 * Fastify's form of our TRUST_PROXY. A hop count becomes proxy-addr's "trust the first n hops
 * from the socket" function (Fastify itself trusts nothing for a bare number): with 1, the load
 * balancer is the socket peer and the client is the entry it appended, the rightmost one.
 */
function fastifyTrustProxy(trust: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}
