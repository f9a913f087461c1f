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
import { Redis } from 'ioredis';
import pg from 'pg';
import { whatsappSaasCatalog, type WhatsappSaasSpec } from '../catalog/whatsapp-saas.js';
import {
  createAwsSource,
  createEnvSource,
  createSecretsEngine,
  createSecretsManagerClient,
  MissingSecretsError,
  SourceError,
} from '../engine/index.js';
import { buildApp } from './app.js';
import { loadServiceConfig } from './config.js';
import { Database, pgPoolConfig } from './database.js';
import { createEnvFile } from './env-file-bootstrap.js';
import { ServiceError } from './errors.js';
import { createLogger, type ServiceLogger } from './logger.js';
import { createRefreshBroadcast } from './refresh-broadcast.js';
import { REDIS_CLIENT_OPTIONS, REDIS_SUBSCRIBER_OPTIONS, watchRedisConnection } from './redis-connection.js';
import { readSettingsFile } from './settings-file.js';
import { installGracefulShutdown } from './shutdown.js';

/** The repository's own template, when the `.env`'s folder has none. */
const SHIPPED_EXAMPLE = fileURLToPath(new URL('../../.env.example', import.meta.url));

/** A start-up failure: one line on stderr (for people), then exit 1. */
class StartupError extends Error {}

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
  // Filled in once the engine exists: logged errors are scrubbed of every current secret value.
  let secretValues: () => readonly string[] = () => [];
  const logger = createLogger({ level: config.logLevel, secretValues: () => secretValues() });
  process.on('uncaughtException', (err) => fatal(logger, 'service.uncaught_exception', err));
  process.on('unhandledRejection', (err) => fatal(logger, 'service.unhandled_rejection', err));

  const catalog = whatsappSaasCatalog({ project: config.secretsProject, environment: config.secretsEnvironment });
  const secretsLogger = logger.child({ component: 'secrets' });
  const endpoint = settings.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() || settings.AWS_ENDPOINT_URL?.trim() || undefined;
  const source = config.useAwsSecrets
    ? createAwsSource({
        client: createSecretsManagerClient({ region: config.awsRegion, ...(endpoint !== undefined && { endpoint }) }),
        region: config.awsRegion,
        logger: secretsLogger,
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
  secretValues = () => catalog.entries.flatMap((e) => engine.accepted(e.name as keyof WhatsappSaasSpec));

  try {
    await engine.initialize();
  } catch (err) {
    if (err instanceof MissingSecretsError) {
      logger.fatal({ event: 'service.start_failed', code: err.code, missing: err.problems.map((p) => p.name) }, err.message);
      throw new StartupError(`${err.message}. Set them in ${config.useAwsSecrets ? `AWS Secrets Manager (${catalog.prefix}/...)` : envFile}.`);
    }
    if (err instanceof SourceError) {
      logger.fatal({ event: 'service.start_failed', code: err.code, sourceCode: err.sourceCode }, err.message);
      throw new StartupError(`Secrets initialization failed: ${err.message}`);
    }
    throw err;
  }

  if (migrateOnly) {
    engine.close();
    const db = new Database({ url: engine.get('DATABASE_URL'), createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)), logger });
    try {
      const applied = await db.setUpOnce();
      logger.info({ event: 'database.migrated', migrationsApplied: applied }, `Applied ${applied.length} migration(s)`);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'UnknownError';
      logger.fatal({ event: 'database.migrate_failed', code }, 'Migration failed');
      throw new StartupError(`Migration failed: ${code}`);
    } finally {
      await db.close();
    }
    return;
  }

  const redisUrl = engine.get('REDIS_URL');
  const redis = new Redis(redisUrl, REDIS_CLIENT_OPTIONS);
  const subscriber = new Redis(redisUrl, REDIS_SUBSCRIBER_OPTIONS);
  watchRedisConnection(redis, 'commands', logger);
  watchRedisConnection(subscriber, 'subscriber', logger);

  const database = new Database({
    url: engine.get('DATABASE_URL'),
    createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)),
    logger: logger.child({ component: 'database' }),
  });
  database.start();

  const broadcast = createRefreshBroadcast({ publisher: redis, subscriber, engine, instanceId: randomUUID(), logger: secretsLogger });
  // Not awaited: with Redis down, SUBSCRIBE waits for the connection, and start-up must not.
  void broadcast.start();

  engine.onRefresh((outcome) => {
    if (!outcome.ok) return;
    const changed = new Set(outcome.changed.map((c) => c.name));
    if (changed.has('DATABASE_URL')) database.replaceUrl(engine.get('DATABASE_URL'));
    if (changed.has('REDIS_URL')) {
      logger.warn({ event: 'service.restart_required', name: 'REDIS_URL' }, 'REDIS_URL changed; restart the service to use it');
    }
  });

  const app = await buildApp({
    engine,
    database,
    redis,
    logger,
    broadcast,
    options: { webhookBodyLimitBytes: config.webhookBodyLimitBytes, trustProxy: config.trustProxy },
  });

  installGracefulShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    exit: (code) => process.exit(code),
    close: async () => {
      await app.close(); // stops accepting, waits for in-flight requests
      await broadcast.close();
      engine.close();
      await Promise.all([
        // The subscriber has nothing to flush; its QUIT could wait in the offline queue.
        Promise.resolve(subscriber.disconnect()),
        redis.quit().catch(() => redis.disconnect()),
        database.close(),
      ]);
    },
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'UnknownError';
    logger.fatal({ event: 'service.listen_failed', code, port: config.port, host: config.host }, 'Cannot listen');
    throw new StartupError(`Cannot listen on ${config.host}:${config.port}: ${code}`);
  }
  const address = app.server.address();
  logger.info(
    { event: 'service.listening', host: config.host, port: typeof address === 'object' && address !== null ? address.port : config.port, source: source.kind },
    'Service listening',
  );
}

function fatal(logger: ServiceLogger, event: string, err: unknown): void {
  logger.fatal({ event, err }, 'Fatal error');
  process.exit(1);
}

start().catch((err: unknown) => {
  if (err instanceof StartupError || err instanceof ServiceError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    const e = err as { name?: string; code?: string };
    process.stderr.write(`Start-up failed: ${e.name ?? 'Error'}${e.code !== undefined ? ` (${e.code})` : ''}\n`);
  }
  process.exitCode = 1;
  // Let pino's asynchronous destination drain, then leave even if a client keeps a socket open.
  setTimeout(() => process.exit(1), 200).unref();
});
