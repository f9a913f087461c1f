import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { whatsappSaasCatalog } from '../catalog/whatsapp-saas.js';
import type { AwsCall, Catalog, Clock, RefreshOutcome } from '../engine/index.js';
import { systemClock } from '../engine/index.js';
import { rotationAges } from './rotation-overdue.js';
import type { ServiceEngine } from './service-engine.js';
import type { SignatureFailure } from './webhook-signature.js';

/** What became of a refresh notice from another instance (see RefreshBroadcastOptions.onNotice). */
export type RefreshNoticeResult = 'applied' | 'coalesced' | 'ignored-malformed';
/** `missing-token`: no `x-admin-token` header; `wrong-token`: one that matches no accepted token. */
export type AdminAuthFailureReason = 'missing-token' | 'wrong-token';
/**
 * `rejected`: answered without storing (bad signature, not a JSON object, too large, database
 * down...). `stored-after-timeout` counts deliveries already counted `rejected` (answered 503 when the
 * client's query_timeout fired) whose events the check a moment later found committed.
 */
export type WebhookEventResult = 'stored' | 'duplicate' | 'rejected' | 'stored-after-timeout';

/**
 * The service's Prometheus metrics. Their names and labels are a contract for dashboards (issue
 * "Operations at fleet scale"); every label value is a fixed word, an operation or an error code,
 * a route pattern or a catalog name: never a value, a token or a raw URL.
 */
export interface Metrics {
  readonly registry: Registry;
  onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The AWS source's `onCall` observer: one Secrets Manager call (`ok` or its error code). */
  awsCall(call: AwsCall): void;
  /** The engine's `onRefresh` listener: one refresh attempt, by reason, `ok` or the failure code. */
  refreshed(outcome: RefreshOutcome): void;
  refreshNotice(result: RefreshNoticeResult): void;
  adminAuthFailure(reason: AdminAuthFailureReason): void;
  adminThrottled(): void;
  webhookSignatureFailure(reason: SignatureFailure): void;
  webhookEvent(result: WebhookEventResult, count?: number): void;
}

export interface MetricsOptions {
  /** Whose rotation schedules `secrets_rotation_*` report (the service's catalog by default). */
  readonly catalog?: Catalog;
  readonly clock?: Clock;
}

/**
 * Prometheus metrics: request counts and latency by route (the route pattern, never the raw URL,
 * so no query string reaches a label), the secrets cache's state and rotation ages read at scrape
 * time, and counters of what the engine, the admin guard and the webhook did.
 */
export function createMetrics(engine: Pick<ServiceEngine, 'status'>, options: MetricsOptions = {}): Metrics {
  const { catalog = whatsappSaasCatalog(), clock = systemClock } = options;
  const registry = new Registry();
  const registers = [registry];
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames, registers });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge('secrets_loaded', 'Secrets currently loaded', () => engine.status().secretsLoaded);
  gauge('secrets_required_ok', '1 when every required secret is loaded', () => (engine.status().requiredSecretsOk ? 1 : 0));
  gauge('secrets_cache_age_seconds', 'Seconds since the last successful secrets load', () => (engine.status().cacheAgeMs ?? 0) / 1000);
  gauge('secrets_refresh_consecutive_failures', 'Failed secrets refreshes in a row', () => engine.status().consecutiveFailures);

  // Both rotation gauges come from rotationAges, which uses the engine's rotationDue: the rule of
  // `secrets status` and of the `secrets.rotation_overdue` log line.
  const rotation = () => rotationAges(catalog, engine.status(), clock.now());
  new Gauge({
    name: 'secrets_rotation_age_days',
    help: "Days since the current version of each secret with a rotation period appeared (AWS: the version's creation)",
    labelNames: ['secret'],
    registers,
    collect() {
      this.reset();
      for (const age of rotation()) this.set({ secret: age.name }, age.ageDays);
    },
  });
  new Gauge({
    name: 'secrets_rotation_overdue',
    help: "1 when a secret's current version is older than its catalog rotation period",
    labelNames: ['secret'],
    registers,
    collect() {
      this.reset();
      for (const age of rotation()) this.set({ secret: age.name }, age.overdue ? 1 : 0);
    },
  });

  const awsCalls = new Counter({
    name: 'secrets_aws_calls_total',
    help: 'Secrets Manager calls the engine made, by operation, outcome (ok or the error code) and region',
    labelNames: ['operation', 'outcome', 'region'],
    registers,
  });
  new Gauge({
    name: 'secrets_served_region',
    help: 'Which region served the current secrets: 1 for the serving region, 0 for the other regions read',
    labelNames: ['region'],
    registers,
    collect() {
      this.reset();
      const { region: serving, regions } = engine.status();
      // Env mode has no region: no series.
      if (typeof serving !== 'string') return;
      for (const region of regions ?? []) this.set({ region }, region === serving ? 1 : 0);
      this.set({ region: serving }, 1);
    },
  });
  const refreshes = new Counter({
    name: 'secrets_refreshes_total',
    help: 'Secrets refresh attempts, by reason and outcome (ok or the failure code)',
    labelNames: ['reason', 'outcome'],
    registers,
  });
  const notices = new Counter({
    name: 'secrets_refresh_notices_total',
    help: 'Refresh notices from other instances, by result (applied, coalesced, ignored-malformed)',
    labelNames: ['result'],
    registers,
  });
  const authFailures = new Counter({
    name: 'admin_auth_failures_total',
    help: 'Admin requests refused 401, by reason (missing-token, wrong-token)',
    labelNames: ['reason'],
    registers,
  });
  const throttled = new Counter({ name: 'admin_throttled_total', help: 'Admin requests refused 429 by the failure throttle', registers });
  const signatureFailures = new Counter({
    name: 'webhook_signature_failures_total',
    help: 'Webhook deliveries refused for their X-Hub-Signature-256, by reason (missing, malformed, mismatch)',
    labelNames: ['reason'],
    registers,
  });
  const webhookEvents = new Counter({
    name: 'webhook_events_total',
    help: 'Webhook deliveries (POST /webhook), by result (stored, duplicate, rejected; stored-after-timeout: rejected with 503 on a client timeout, yet committed)',
    labelNames: ['result'],
    registers,
  });
  // Known label values start at 0, so a dashboard's rate() has a series before the first event.
  for (const result of ['applied', 'coalesced', 'ignored-malformed']) notices.labels({ result }).inc(0);
  for (const reason of ['missing-token', 'wrong-token']) authFailures.labels({ reason }).inc(0);
  for (const reason of ['missing', 'malformed', 'mismatch']) signatureFailures.labels({ reason }).inc(0);
  for (const result of ['stored', 'duplicate', 'rejected', 'stored-after-timeout']) webhookEvents.labels({ result }).inc(0);

  return {
    registry,
    async onResponse(request, reply) {
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    },
    awsCall: ({ operation, outcome, region }) => awsCalls.inc({ operation, outcome, region }),
    refreshed: (outcome) => refreshes.inc({ reason: outcome.reason, outcome: outcome.ok ? 'ok' : outcome.code }),
    refreshNotice: (result) => notices.inc({ result }),
    adminAuthFailure: (reason) => authFailures.inc({ reason }),
    adminThrottled: () => throttled.inc(),
    webhookSignatureFailure: (reason) => signatureFailures.inc({ reason }),
    webhookEvent: (result, count = 1) => webhookEvents.inc({ result }, count),
  };
}
