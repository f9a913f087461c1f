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
import {
  type AwsCall,
  type AwsRegionClient,
  createAwsSource,
  createEnvSource,
  createSecretsEngine,
  createSecretsManagerClient,
  driverErrorCode,
  MissingSecretsError,
  refreshChannel,
  silentLogger,
  type SecretSource,
  type SecretsEngine,
  SourceError,
  systemClock,
} from '../engine/index.js';
import { bootstrapValue, createEnvFile } from '../provisioning/create-env-file.js';
import { EnvFileCreateError } from '../provisioning/errors.js';
import { buildApp } from './app.js';
import { connectionTarget } from './connection-target.js';
import { loadServiceConfig } from './config.js';
import { Database, pgPoolConfig } from './database.js';
import { ServiceError } from './errors.js';
import { createCoalescedRefresh } from './credential-refresh.js';
import { createFailureThrottle, DEFAULT_THROTTLE_KEY_PREFIX, type FailureThrottle } from './failure-throttle.js';
import { startDevDependencies } from './dev-dependencies.js';
import { createLogger, type ServiceLogger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { startMetricsListener } from './metrics-server.js';
import { createFleetSize } from './fleet-size.js';
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
import { placeholderRefusal, placeholderSecrets } from './placeholder-secrets.js';
import { portUnavailable } from './port-preflight.js';
import { readSettingsFile } from './settings-file.js';
import { installGracefulShutdown } from './shutdown.js';
import { singleInstanceRedis } from './single-instance-redis.js';
import { listenFailure, secretsStartupFailure } from './startup-failure.js';
import { createStartupLogGate, type StartupLogGate } from './startup-log-gate.js';
import { listenForUnlocks, type UnlockListener } from './unlock-listener.js';

// The AWS SDK's Node 20 support notice is for whoever picks the runtime (we ship Node 24), not for
// the people reading this service's console; it is read when the first client is created.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The repository's own template, when the `.env`'s folder has none. */
const SHIPPED_EXAMPLE = fileURLToPath(new URL('../../.env.example', import.meta.url));

/** A start-up failure: one line on stderr (for people), then exit 1. */
class StartupError extends Error {}

/** Holds the dev console's log lines until start-up gets past loading the secrets (see the gate). */
let startupGate: StartupLogGate | undefined;

/** The template `npm run dev` writes `.env` from: the one beside it, else the shipped one. */
function envExamplePath(envFile: string): string {
  const local = join(dirname(envFile), '.env.example');
  return existsSync(local) ? local : SHIPPED_EXAMPLE;
}

interface StartArgs {
  readonly dev: boolean;
  readonly migrateOnly: boolean;
  readonly envFile: string;
}

/**
 * The parts that exist before the secrets are loaded: settings, logger, catalog, source, engine
 * and metrics. Built here, wired by wireCore, started by loadSecrets. Nothing listens or connects.
 */
interface Core {
  readonly args: StartArgs;
  readonly settings: Record<string, string | undefined>;
  readonly config: ReturnType<typeof loadServiceConfig>;
  readonly logger: ServiceLogger;
  readonly secretsLogger: ServiceLogger;
  readonly catalog: ReturnType<typeof whatsappSaasCatalog>;
  readonly endpoint: string | undefined;
  readonly source: SecretSource;
  readonly engine: SecretsEngine<WhatsappSaasSpec>;
  readonly metrics: Metrics;
  /** What the logger scrubs from logged errors; filled by wireCore once the engine exists. */
  readonly secretValueSources: (() => readonly string[])[];
  /** Who hears of each Secrets Manager call; the metrics, from wireCore on (before the first load). */
  readonly awsCallListeners: ((call: AwsCall) => void)[];
}

async function buildCore(args: StartArgs): Promise<Core> {
  const { dev, envFile } = args;
  if (dev) {
    const { created, path } = await createEnvFile({ path: envFile, examplePath: envExamplePath(envFile) });
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
  const secretValueSources: (() => readonly string[])[] = [];
  const logger = createLogger({
    level: config.logLevel,
    secretValues: () => secretValueSources.flatMap((values) => values()),
    ...(startupGate !== undefined && { destination: startupGate.stream }),
  });

  const catalog = whatsappSaasCatalog({ project: config.secretsProject, environment: config.secretsEnvironment });
  const secretsLogger = logger.child({ component: 'secrets' });
  const endpoint = settings.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() || settings.AWS_ENDPOINT_URL?.trim() || undefined;
  const awsCallListeners: ((call: AwsCall) => void)[] = [];
  const source = config.useAwsSecrets
    ? createAwsSource({
        // AWS_REGION first, then SECRETS_REPLICA_REGIONS in order: a client per region. An
        // endpoint override serves every region (the local endpoint tells them apart by the
        // request signature's region). Throttling is the fleet's load: the engine's retries
        // spread it, the SDK's would add to it.
        regions: [config.awsRegion, ...config.secretsReplicaRegions].map((region) => ({
          region,
          client: createSecretsManagerClient({ region, retryThrottled: false, ...(endpoint !== undefined && { endpoint }) }),
        })) as [AwsRegionClient, ...AwsRegionClient[]],
        logger: secretsLogger,
        onCall: (call) => {
          for (const listener of awsCallListeners) listener(call);
        },
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
  return { args, settings, config, logger, secretsLogger, catalog, endpoint, source, engine, metrics, secretValueSources, awsCallListeners };
}

/** Connects the core parts: fatal-error handlers, metrics of calls and refreshes, the log scrubber. */
function wireCore(core: Core): void {
  const { logger, engine, catalog, metrics } = core;
  process.on('uncaughtException', (err) => fatal(logger, 'service.uncaught_exception', err));
  process.on('unhandledRejection', (err) => fatal(logger, 'service.unhandled_rejection', err));
  // Start-up's calls count too: this runs before the first load.
  core.awsCallListeners.push(metrics.awsCall);
  engine.onRefresh(metrics.refreshed);
  core.secretValueSources.push(secretValuesOf(engine, catalog));
}

/**
 * Every current secret value, for the log scrubber. Entries with a default (model name, token
 * limit, temperature) are settings, not secrets: the scrubber replaces even short values, so it
 * must not turn "gpt-4" into [Redacted] everywhere. DATABASE_URL as drivers see it: for the RDS
 * JSON form, the URL built from it (and its password), derived again only when the stored value
 * changes: this runs for every logged request (URLs are scrubbed too), so it must stay cheap and
 * not count as a read.
 */
function secretValuesOf(engine: SecretsEngine<WhatsappSaasSpec>, catalog: Core['catalog']): () => readonly string[] {
  const secretEntries = catalog.entries.filter((e) => e.spec.default === undefined);
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
  return () => [...secretEntries.flatMap((e) => engine.accepted(e.name as keyof WhatsappSaasSpec)), ...derivedDatabaseUrl()];
}

/** Loads the catalog, or fails start-up with one line naming what is missing and where it looked. */
async function loadSecrets(core: Core): Promise<void> {
  const { engine, config, logger, catalog, endpoint, args } = core;
  try {
    await engine.initialize();
  } catch (err) {
    if (err instanceof MissingSecretsError || err instanceof SourceError) {
      const line = secretsStartupFailure(err, { useAwsSecrets: config.useAwsSecrets, endpoint, region: config.awsRegion, envFile: args.envFile, prefix: catalog.prefix });
      logger.fatal({ event: 'service.start_failed', code: err.code, ...(err instanceof MissingSecretsError ? { missing: err.problems.map((p) => p.name) } : { sourceCode: err.sourceCode }) }, line);
      // On a terminal the human line says it all; the log lines leading to it would only repeat it.
      startupGate?.discard();
      throw new StartupError(line);
    }
    throw err;
  }
  // Placeholders (META_APP_SECRET, OPENAI_API_KEY of a fresh .env) are for local development only.
  const refusal = placeholderRefusal(placeholderSecrets(engine), { useAwsSecrets: config.useAwsSecrets, endpoint, prefix: catalog.prefix, region: config.awsRegion });
  if (refusal !== undefined) {
    logger.fatal({ event: 'service.start_failed', code: 'SECRETS_PLACEHOLDER', placeholders: placeholderSecrets(engine) }, refusal);
    startupGate?.discard();
    throw new StartupError(refusal);
  }
  startupGate?.open();
}

/** A port in use stops start-up in one line, before secrets, PostgreSQL or Redis start. */
async function checkPort(core: Core): Promise<void> {
  const { config, logger } = core;
  const portProblem = await portUnavailable(config.host, config.port);
  if (portProblem === undefined) return;
  const line = listenFailure(portProblem, config.host, config.port);
  logger.fatal({ event: 'service.listen_failed', code: portProblem, port: config.port, host: config.host }, line);
  // On a terminal the human line says it all (as for the secrets' start-up failures).
  startupGate?.discard();
  throw new StartupError(line);
}

/** `--migrate`: create the database if missing, apply the migrations, and stop. */
async function migrate(core: Core): Promise<void> {
  const { engine, logger } = core;
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
}

/** The parts that need the loaded secrets: clients, the database, the refresh broadcast, the app. Built, not started. */
interface Serving {
  readonly devDependencies: Awaited<ReturnType<typeof startDevDependencies>> | undefined;
  readonly redis: Redis | undefined;
  readonly subscriber: Redis | undefined;
  readonly redisFollowers: readonly RedisCredentials[];
  readonly database: Database;
  readonly broadcast: ReturnType<typeof createRefreshBroadcast> | undefined;
  readonly throttle: FailureThrottle;
  /** `secrets unlock`'s notices, which clear what the throttle's memory holds (none for a single instance). */
  readonly unlocks: UnlockListener | undefined;
  readonly app: FastifyInstance;
}

async function buildServing(core: Core): Promise<Serving> {
  const { engine, config, logger, secretsLogger, metrics, args, catalog, source } = core;
  // One channel per project, environment and source: dev and dev:aws never refresh each other.
  const channel = refreshChannel(catalog, source.kind);
  // The port through which PostgreSQL and Redis ask for their credentials again after a refusal:
  // that one secret, read afresh (never an attempt that started before the refusal).
  const refreshSecret = (name: 'DATABASE_URL' | 'REDIS_URL'): Promise<unknown> =>
    engine.refresh({ names: [name], fresh: true, reason: 'auth-failure' });

  // `npm run dev` with nothing but Node: an embedded PostgreSQL where the default DATABASE_URL
  // finds none, and a single instance where the default REDIS_URL finds no Redis. Never in AWS mode
  // or production (no --dev); never for a URL set explicitly (see dev-dependencies.ts).
  const devDependencies =
    args.dev && !config.useAwsSecrets
      ? await startDevDependencies({ envFile: args.envFile, env: process.env, logger, bootstrapDatabaseUrl: await bootstrapValue(envExamplePath(args.envFile), 'DATABASE_URL') })
      : undefined;
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

  const broadcast =
    redis === undefined || subscriber === undefined
      ? undefined
      : createRefreshBroadcast({
          publisher: redis,
          subscriber,
          engine,
          instanceId: randomUUID(),
          channel,
          minIntervalMs: config.secretsNoticeIntervalMs,
          spreadMs: config.secretsNoticeSpreadMs,
          budgetPerSecond: config.secretsGetSecretValueBudgetPerSecond,
          // The fleet counts itself: every instance holds one subscription to the refresh channel.
          fleetSize: createFleetSize({ redis, channel, logger: secretsLogger }),
          logger: secretsLogger,
          onNotice: metrics.refreshNotice,
        });

  // The admin throttle, and `secrets unlock`'s notices that clear what its memory holds.
  const throttle = createFailureThrottle({ redis: redis ?? singleInstanceRedis(), logger: singleInstance ? silentLogger : logger });
  const unlocks = subscriber === undefined ? undefined : listenForUnlocks({ subscriber, throttle, keyPrefix: DEFAULT_THROTTLE_KEY_PREFIX, logger });

  const app = await buildApp({
    engine,
    database,
    redis: redis ?? singleInstanceRedis(),
    logger,
    throttle,
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
  return { devDependencies, redis, subscriber, redisFollowers, database, broadcast, throttle, unlocks, app };
}

/** A changed DATABASE_URL or REDIS_URL moves the clients to it. */
function wireServing(core: Core, serving: Serving): void {
  core.engine.onRefresh((outcome) => {
    if (!outcome.ok) return;
    const changed = new Set(outcome.changed.map((c) => c.name));
    if (changed.has('DATABASE_URL')) serving.database.urlChanged();
    if (changed.has('REDIS_URL')) for (const follower of serving.redisFollowers) follower.apply();
  });
}

/** Starts the background work, installs the graceful shutdown, listens (API, then metrics). */
async function run(core: Core, serving: Serving): Promise<void> {
  const { config, logger, secretsLogger, engine, catalog, metrics, source } = core;
  const { app, broadcast, unlocks, database, redis, subscriber, devDependencies } = serving;
  database.start();
  // Not awaited: with Redis down, SUBSCRIBE waits for the connection, and start-up must not.
  void broadcast?.start();
  void unlocks?.start();
  // Log lines for the rotation-overdue alarm of `secrets alarms` (a CloudWatch Logs metric filter).
  const rotationWatch = watchRotationOverdue({ catalog, engine, logger: secretsLogger, clock: systemClock });

  const listeners: { metrics?: FastifyInstance } = {};
  installGracefulShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    exit: (code) => process.exit(code),
    close: async () => {
      await Promise.all([app.close(), listeners.metrics?.close()]); // stops accepting, waits for in-flight requests
      await broadcast?.close();
      await unlocks?.close();
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
    // A metrics listener that cannot start stops the service.
    listeners.metrics = await startMetricsListener(config.metrics, metrics, logger);
  } catch (err) {
    if (config.metrics.kind !== 'own') throw err;
    const { host, port } = config.metrics;
    const code = driverErrorCode(err);
    const line = listenFailure(code, host, port, { host: 'METRICS_HOST', port: 'METRICS_PORT' });
    logger.fatal({ event: 'service.listen_failed', code, port, host, listener: 'metrics' }, line);
    throw new StartupError(line);
  }
}

/** Build the parts, wire them, run: first what loads the secrets, then what serves with them. */
async function start(): Promise<void> {
  const argv = process.argv.slice(2);
  const args: StartArgs = { dev: argv.includes('--dev'), migrateOnly: argv.includes('--migrate'), envFile: resolve(process.env.ENV_FILE?.trim() || '.env') };
  const core = await buildCore(args);
  wireCore(core);
  // `--migrate` listens on nothing: it runs beside a service that holds the port.
  if (!args.migrateOnly) await checkPort(core);
  await loadSecrets(core);
  if (args.migrateOnly) return migrate(core);
  const serving = await buildServing(core);
  wireServing(core, serving);
  await run(core, serving);
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
