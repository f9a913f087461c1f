/**
 * The servers `bench/http.ts` measures, in one child process so the load generator does not
 * share their event loop: a bare Fastify route (the baseline) and the service app as the entry
 * composes it (real engine in env mode, PostgreSQL, Redis, info-level JSON logs to /dev/null,
 * audit events included), and that app again with one webhook event per transaction (the
 * reference for group commit). Prints one JSON line with the ports, then serves until SIGTERM.
 * Settings come from the parent: DATABASE_URL, REDIS_URL and the secrets in the environment.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { whatsappSaasCatalog } from '../src/catalog/whatsapp-saas.js';
import { createEnvSource, createSecretsEngine } from '../src/engine/index.js';
import { buildApp, logCommittedGroup } from '../src/service/app.js';
import { Database, pgPoolConfig } from '../src/service/database.js';
import { createLogger } from '../src/service/logger.js';
import { WebhookIngest } from '../src/service/webhook-ingest.js';
import { REDIS_CLIENT_OPTIONS } from '../src/service/redis-connection.js';

const baseline = Fastify({ logger: false });
baseline.get('/', async () => ({ ok: true }));

const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source: createEnvSource({ env: process.env, envFilePath: null }) });
await engine.initialize();
const redis = new Redis(engine.get('REDIS_URL'), REDIS_CLIENT_OPTIONS);
const database = new Database({ url: engine.get('DATABASE_URL'), createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)) });
database.start();
await database.whenReady();
if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
// Probe round trips, counted where they leave for PostgreSQL and Redis (bench/healthz.ts reads them).
const probes = { database: 0, redis: 0 };
const databasePing = database.ping.bind(database);
database.ping = () => (probes.database++, databasePing());
const redisPing = redis.ping.bind(redis) as () => Promise<'PONG'>;
(redis as { ping: () => Promise<'PONG'> }).ping = () => (probes.redis++, redisPing());
baseline.get('/probes', async () => probes);
const healthMaxAgeMs = process.env.BENCH_HEALTH_MAX_AGE_MS === undefined ? {} : { healthMaxAgeMs: Number(process.env.BENCH_HEALTH_MAX_AGE_MS) };
// The app's group commit, timed from submit to commit per delivery (bench/http.ts reads and resets
// the figures through /ingest around each webhook phase): the database's share of a webhook's time.
// BENCH_GROUPS_IN_FLIGHT: the group commit's writers (WEBHOOK_GROUPS_IN_FLIGHT), for tuning runs.
const groupsInFlight = process.env.BENCH_GROUPS_IN_FLIGHT === undefined ? {} : { groupsInFlight: Number(process.env.BENCH_GROUPS_IN_FLIGHT) };
const ingest = new WebhookIngest(database, groupsInFlight, { onCommitted: logCommittedGroup(logger) });
let ingestWaitsMs: number[] = [];
const timedIngest: Pick<WebhookIngest, 'submit'> = {
  submit: async (event) => {
    const started = performance.now();
    try {
      return await ingest.submit(event);
    } finally {
      ingestWaitsMs.push(performance.now() - started);
    }
  },
};
baseline.get('/ingest', async () => {
  const waits = ingestWaitsMs.sort((a, b) => a - b);
  ingestWaitsMs = [];
  const meanMs = waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length);
  return { events: waits.length, p50Ms: waits[waits.length >> 1] ?? 0, meanMs, groupsCommitted: ingest.stats().groupsCommitted };
});
// No per-socket request limit (HTTP_MAX_REQUESTS_PER_SOCKET, 10,000 in production): autocannon
// keeps a connection for the whole run and, unlike a load balancer, goes on sending on it after
// the server's `Connection: close`, so a fast route's later requests would be measured as instant
// 503s from Node (the limit's answer), not as the route.
const httpLimits = { maxRequestsPerSocket: 0 };
const app = await buildApp({
  engine,
  database,
  redis,
  logger,
  webhookIngest: timedIngest,
  options: { logRequests: process.env.BENCH_LOG_REQUESTS !== '0', ...healthMaxAgeMs, ...httpLimits },
});
// The reference: the same app with one event per transaction, as many at once as the pool allows
// (what the webhook did before group commit), for a same-run comparison.
const perEvent = await buildApp({
  engine,
  database,
  redis,
  logger,
  options: { logRequests: process.env.BENCH_LOG_REQUESTS !== '0', ...healthMaxAgeMs, ...httpLimits, webhookGroupMax: 1, webhookGroupsInFlight: 8 },
});

await baseline.listen({ port: 0, host: '127.0.0.1' });
await app.listen({ port: 0, host: '127.0.0.1' });
await perEvent.listen({ port: 0, host: '127.0.0.1' });
const port = (s: typeof app.server) => {
  const a = s.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
};
process.stdout.write(`${JSON.stringify({ baseline: port(baseline.server), service: port(app.server), perEvent: port(perEvent.server) })}\n`);

process.on('SIGTERM', () => {
  void (async () => {
    await Promise.all([baseline.close(), app.close(), perEvent.close()]);
    engine.close();
    redis.disconnect();
    await database.close();
    process.exit(0);
  })();
});
