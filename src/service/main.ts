/**
 * The service entry and composition root: the only module that reads `process.env`, creates the
 * AWS, PostgreSQL and Redis clients, listens, and exits.
 *
 *   npm run dev    tsx src/service/main.ts --dev   (creates .env from .env.example when missing)
 *   npm start      node dist/service/main.js
 *   npm run migrate   tsx src/service/main.ts --migrate  (create the database if missing, migrate, exit)
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { whatsappSaasCatalog, type WhatsappSaasSpec } from '../catalog/whatsapp-saas.js';
import { type AwsRegionClient, createAwsSource, createEnvSource, createSecretsEngine, createSecretsManagerClient, driverErrorCode, MissingSecretsError, SourceError, systemClock } from '../engine/index.js';
import { createEnvFile } from '../provisioning/create-env-file.js';
import { EnvFileCreateError } from '../provisioning/errors.js';
import { buildApp } from './app.js';
import { connectionTarget } from './connection-target.js';
import { loadServiceConfig } from './config.js';
import { Database, pgPoolConfig } from './database.js';
import { ServiceError } from './errors.js';
import { createCoalescedRefresh } from './credential-refresh.js';
import { startDevDependencies } from './dev-dependencies.js';
import { createLogger, type ServiceLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { startMetricsListener } from './metrics-server.js';
import { createRefreshBroadcast } from './refresh-broadcast.js';
import { prettyLogStream } from './pretty-log-stream.js';
import {
  followRedisCredentials,
  REDIS_CLIENT_OPTIONS,
  REDIS_SUBSCRIBER_OPTIONS,
  type RedisCredentials,
  redisTarget,
  redisTargetOptions,
  watchRedisConnection,
} from './redis-connection.js';
import { watchRotationOverdue } from './rotation-overdue.js';
import { readSettingsFile } from './settings-file.js';
import { installGracefulShutdown } from './shutdown.js';
import { singleInstanceRedis } from './single-instance-redis.js';
import { listenFailure, secretsStartupFailure } from './startup-failure.js';
import { createStartupLogGate, type StartupLogGate } from './startup-log-gate.js';

// The AWS SDK's Node 20 support notice is for whoever picks the runtime (we ship Node 24), not for
// the people reading this service's console; it is read when the first client is created.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The repository's own template, when the `.env`'s folder has none. */
const SHIPPED_EXAMPLE = fileURLToPath(new URL('../../.env.example', import.meta.url));

/** A start-up failure: one line on stderr (for people), then exit 1. */
class StartupError extends Error {}

/** Holds the dev console's log lines until start-up gets past loading the secrets (see the gate). */
let startupGate: StartupLogGate | undefined;

async function start(): Promise<void> {
  const args = process.argv.slice(2);
  const dev = args.includes('--dev');
  const migrateOnly = args.includes('--migrate');
  const envFile = resolve(process.env.ENV_FILE?.trim() || '.env');

  if (dev) {
    const local = join(dirname(envFile), '.env.example');
    const { created, path } = await createEnvFile({ path: envFile, examplePath: existsSync(local) ? local : SHIPPED_EXAMPLE });
    if (created) {
      process.stderr.write(
        `Created ${path} (mode 0600) with a fresh ADMIN_TOKEN and META_VERIFY_TOKEN and local PostgreSQL/Redis URLs.\n` +
          'Replace the placeholder META_APP_SECRET and OPENAI_API_KEY with real values before talking to Meta or OpenAI.\n',
      );
    }
  }

  const settings = { ...(await readSettingsFile(envFile)), ...process.env };
  const config = loadServiceConfig({ ...settings, ENV_FILE: envFile });
  // Human lines for a developer at a terminal; JSON for pipes, log collectors and production.
  const pretty = dev && process.stdout.isTTY === true && process.env.NODE_ENV !== 'production';
  if (pretty) {
    startupGate = createStartupLogGate(await prettyLogStream({ colorize: (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb' }));
  }
  // Filled in once the engine exists: logged errors are scrubbed of every current secret value.
  let secretValues: () => readonly string[] = () => [];
  const logger = createLogger({ level: config.logLevel, secretValues: () => secretValues(), ...(startupGate !== undefined && { destination: startupGate.stream }) });
  process.on('uncaughtException', (err) => fatal(logger, 'service.uncaught_exception', err));
  process.on('unhandledRejection', (err) => fatal(logger, 'service.unhandled_rejection', err));

  const catalog = whatsappSaasCatalog({ project: config.secretsProject, environment: config.secretsEnvironment });
  const secretsLogger = logger.child({ component: 'secrets' });
  const endpoint = settings.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() || settings.AWS_ENDPOINT_URL?.trim() || undefined;
  const source = config.useAwsSecrets
    ? createAwsSource({
        // AWS_REGION first, then SECRETS_REPLICA_REGIONS in order: a client per region. An
        // endpoint override serves every region (the local endpoint tells them apart by the
        // request signature's region).
        regions: [config.awsRegion, ...config.secretsReplicaRegions].map((region) => ({
          region,
          client: createSecretsManagerClient({ region, ...(endpoint !== undefined && { endpoint }) }),
        })) as [AwsRegionClient, ...AwsRegionClient[]],
        logger: secretsLogger,
        // `metrics` is created right after the engine, before its first load: start-up's calls count too.
        onCall: (call) => metrics.awsCall(call),
      })
    : createEnvSource({ env: process.env, envFilePath: envFile, logger: secretsLogger });
  const engine = createSecretsEngine({
    catalog,
    source,
    logger: secretsLogger,
    ttlMs: config.secretsTtlMs,
    graceMs: config.secretsGraceMs,
    startupTimeoutMs: config.secretsStartupTimeoutMs,
  });
  const metrics = createMetrics(engine, { catalog, clock: systemClock });
  engine.onRefresh(metrics.refreshed);
  // Entries with a default (model name, token limit, temperature) are settings, not secrets: the
  // scrubber replaces even short values, so it must not turn "gpt-4" into [Redacted] everywhere.
  const secretEntries = catalog.entries.filter((e) => e.spec.default === undefined);
  // DATABASE_URL as drivers see it: for the RDS JSON form, the URL built from it (and its
  // password). Derived again only when the stored value changes: this runs for every logged
  // request (URLs are scrubbed too), so it must stay cheap and not count as a read.
  let databaseUrl: { raw: string; url: string } | undefined;
  const derivedDatabaseUrl = (): string[] => {
    const raw = engine.accepted('DATABASE_URL')[0];
    if (raw === undefined) return [];
    if (databaseUrl?.raw !== raw) {
      // Until start-up has succeeded get() refuses every read; the stored value is scrubbed meanwhile.
      if (!engine.status().initialized) return [];
      databaseUrl = { raw, url: engine.get('DATABASE_URL') };
    }
    return [databaseUrl.url];
  };
  secretValues = () => [...secretEntries.flatMap((e) => engine.accepted(e.name as keyof WhatsappSaasSpec)), ...derivedDatabaseUrl()];

  try {
    await engine.initialize();
  } catch (err) {
    if (err instanceof MissingSecretsError || err instanceof SourceError) {
      const line = secretsStartupFailure(err, { useAwsSecrets: config.useAwsSecrets, endpoint, region: config.awsRegion, envFile, prefix: catalog.prefix });
      logger.fatal({ event: 'service.start_failed', code: err.code, ...(err instanceof MissingSecretsError ? { missing: err.problems.map((p) => p.name) } : { sourceCode: err.sourceCode }) }, line);
      // On a terminal the human line says it all; the log lines leading to it would only repeat it.
      startupGate?.discard();
      throw new StartupError(line);
    }
    throw err;
  }
  startupGate?.open();

  if (migrateOnly) {
    engine.close();
    const db = new Database({ url: engine.get('DATABASE_URL'), createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)), logger });
    try {
      const applied = await db.setUpOnce();
      logger.info({ event: 'database.migrated', migrationsApplied: applied }, `Applied ${applied.length} migration(s)`);
    } catch (err) {
      const code = driverErrorCode(err);
      logger.fatal({ event: 'database.migrate_failed', code }, 'Migration failed');
      throw new StartupError(`Migration failed: ${code}`);
    } finally {
      await db.close();
    }
    return;
  }

  // The port through which PostgreSQL and Redis ask for their credentials again after a refusal:
  // that one secret, read afresh (never an attempt that started before the refusal).
  const refreshSecret = (name: 'DATABASE_URL' | 'REDIS_URL'): Promise<unknown> =>
    engine.refresh({ names: [name], fresh: true, reason: 'auth-failure' });

  // `npm run dev` with nothing but Node: an embedded PostgreSQL where the default DATABASE_URL
  // finds none, and a single instance where the default REDIS_URL finds no Redis. Never in AWS mode
  // or production (no --dev); never for a URL set explicitly (see dev-dependencies.ts).
  const devDependencies = dev && !config.useAwsSecrets ? await startDevDependencies({ envFile, env: process.env, logger }) : undefined;
  const singleInstance = devDependencies?.singleInstance === true;

  const redisUrl = () => engine.get('REDIS_URL');
  const redisCredentials = createCoalescedRefresh({ run: () => refreshSecret('REDIS_URL') });
  // A single instance has no Redis client at all: nothing connects, retries or logs reconnects.
  const redis = singleInstance ? undefined : new Redis({ ...REDIS_CLIENT_OPTIONS, ...redisTargetOptions(redisTarget(redisUrl())) });
  const subscriber = singleInstance ? undefined : new Redis({ ...REDIS_SUBSCRIBER_OPTIONS, ...redisTargetOptions(redisTarget(redisUrl())) });
  const redisFollowers: RedisCredentials[] = [];
  if (redis !== undefined && subscriber !== undefined) {
    // Redis lines name host and port ("Redis unavailable" says which), never credentials.
    const redisLogger = logger.child({ redis: connectionTarget(redisUrl()) });
    watchRedisConnection(redis, 'commands', redisLogger);
    watchRedisConnection(subscriber, 'subscriber', redisLogger);
    redisFollowers.push(
      followRedisCredentials(redis, 'commands', { url: redisUrl, credentials: redisCredentials, logger: redisLogger }),
      followRedisCredentials(subscriber, 'subscriber', { url: redisUrl, credentials: redisCredentials, logger: redisLogger }),
    );
  }

  const database = new Database({
    url: () => engine.get('DATABASE_URL'),
    createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)),
    credentials: createCoalescedRefresh({ run: () => refreshSecret('DATABASE_URL') }),
    // Every database line names host, port and database ("database down" says which), never credentials.
    logger: logger.child({ component: 'database', database: connectionTarget(engine.get('DATABASE_URL')) }),
  });
  database.start();

  const broadcast =
    redis === undefined || subscriber === undefined
      ? undefined
      : createRefreshBroadcast({
          publisher: redis,
          subscriber,
          engine,
          instanceId: randomUUID(),
          minIntervalMs: config.secretsNoticeIntervalMs,
          spreadMs: config.secretsNoticeSpreadMs,
          logger: secretsLogger,
          onNotice: metrics.refreshNotice,
        });
  // Not awaited: with Redis down, SUBSCRIBE waits for the connection, and start-up must not.
  void broadcast?.start();

  engine.onRefresh((outcome) => {
    if (!outcome.ok) return;
    const changed = new Set(outcome.changed.map((c) => c.name));
    if (changed.has('DATABASE_URL')) database.urlChanged();
    if (changed.has('REDIS_URL')) for (const follower of redisFollowers) follower.apply();
  });

  // Log lines for the rotation-overdue alarm of `secrets alarms` (a CloudWatch Logs metric filter).
  const rotationWatch = watchRotationOverdue({ catalog, engine, logger: secretsLogger, clock: systemClock });

  const app = await buildApp({
    engine,
    database,
    redis: redis ?? singleInstanceRedis(),
    logger,
    ...(broadcast !== undefined && { broadcast }),
    singleInstance,
    metrics,
    options: {
      metrics: config.metrics.kind === 'main',
      healthMaxAgeMs: config.healthMaxAgeMs,
      webhookBodyLimitBytes: config.webhookBodyLimitBytes,
      webhookQueueMax: config.webhookQueueMax,
      webhookGroupMax: config.webhookGroupMax,
      webhookGroupsInFlight: config.webhookGroupsInFlight,
      trustProxy: config.trustProxy,
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
      maxRequestsPerSocket: config.httpMaxRequestsPerSocket,
    },
  });

  // Set once the API listens: a metrics listener that cannot start stops the service.
  let metricsServer: FastifyInstance | undefined;

  installGracefulShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    exit: (code) => process.exit(code),
    close: async () => {
      await Promise.all([app.close(), metricsServer?.close()]); // stops accepting, waits for in-flight requests
      await broadcast?.close();
      rotationWatch.stop();
      engine.close();
      await Promise.all([
        // The subscriber has nothing to flush; its QUIT could wait in the offline queue.
        Promise.resolve(subscriber?.disconnect()),
        redis?.quit().catch(() => redis.disconnect()),
        database.close(),
      ]);
      await devDependencies?.stop(); // after the pool: the embedded PostgreSQL goes last
    },
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const code = driverErrorCode(err);
    const line = listenFailure(code, config.host, config.port);
    logger.fatal({ event: 'service.listen_failed', code, port: config.port, host: config.host }, line);
    throw new StartupError(line);
  }
  const address = app.server.address();
  logger.info(
    { event: 'service.listening', host: config.host, port: typeof address === 'object' && address !== null ? address.port : config.port, source: source.kind },
    'Service listening',
  );
  try {
    metricsServer = await startMetricsListener(config.metrics, metrics, logger);
  } catch (err) {
    if (config.metrics.kind !== 'own') throw err;
    const { host, port } = config.metrics;
    const code = driverErrorCode(err);
    const line = listenFailure(code, host, port, { host: 'METRICS_HOST', port: 'METRICS_PORT' });
    logger.fatal({ event: 'service.listen_failed', code, port, host, listener: 'metrics' }, line);
    throw new StartupError(line);
  }
}

function fatal(logger: ServiceLogger, event: string, err: unknown): void {
  startupGate?.open();
  logger.fatal({ event, err }, 'Fatal error');
  process.exit(1);
}

start().catch((err: unknown) => {
  if (!(err instanceof StartupError)) startupGate?.open();
  if (err instanceof StartupError || err instanceof ServiceError || err instanceof EnvFileCreateError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    const e = err as { name?: string; code?: string };
    process.stderr.write(`Start-up failed: ${e.name ?? 'Error'}${e.code !== undefined ? ` (${e.code})` : ''}\n`);
  }
  process.exitCode = 1;
  // Let pino's asynchronous destination drain, then leave even if a client keeps a socket open.
  setTimeout(() => process.exit(1), 200).unref();
});
