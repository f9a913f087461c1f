import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { whatsappSaasCatalog, type WhatsappSaasSpec } from '../../../src/catalog/whatsapp-saas.js';
import { randomBytes } from 'node:crypto';
import { createEnvSource, createSecretsEngine, refreshChannel, type Clock, type SecretsEngine, type SecretSource } from '../../../src/engine/index.js';
import { buildApp, type AppOptions } from '../../../src/service/app.js';
import { createCoalescedRefresh } from '../../../src/service/credential-refresh.js';
import { Database, pgPoolConfig } from '../../../src/service/database.js';
import { createFailureThrottle, type FailureThrottle } from '../../../src/service/failure-throttle.js';
import { createLogger } from '../../../src/service/logger.js';
import { createRefreshBroadcast, type RefreshBroadcast } from '../../../src/service/refresh-broadcast.js';
import {
  followRedisCredentials,
  REDIS_CLIENT_OPTIONS,
  REDIS_SUBSCRIBER_OPTIONS,
  redisTarget,
  redisTargetOptions,
} from '../../../src/service/redis-connection.js';
import { captureLogs, type LogCapture } from './log-capture.js';

/** A throttle whose Redis keys no other test (or earlier run) shares. */
export function isolatedThrottle(redis: Redis, clock?: Clock): FailureThrottle {
  return createFailureThrottle({ redis, keyPrefix: `test-admin-auth:${randomBytes(6).toString('hex')}:`, ...(clock !== undefined && { clock }) });
}

/** Distinct, recognisable values: canary scans look for each of them in every output. */
export function testSecrets(databaseUrl: string, redisUrl: string): Record<string, string> {
  return {
    ADMIN_TOKEN: 'canary-admin-token-7f3a9c1e5b8d2f4a6c',
    META_VERIFY_TOKEN: 'canary-verify-token-2d8e4f6a0c',
    META_APP_SECRET: 'canary-app-secret-9b1d3f5a7c2e4f6a8b',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    OPENAI_API_KEY: 'sk-canary-openai-4e6a8c0b2d',
  };
}

export interface Harness {
  readonly app: FastifyInstance;
  readonly engine: SecretsEngine<WhatsappSaasSpec>;
  /** The engine's environment: edit it and call engine.refresh() to simulate a rotation. */
  readonly env: Record<string, string | undefined>;
  readonly database: Database;
  readonly redis: Redis;
  /** With `liveRedis`: the connection that listens for refresh notices. */
  readonly subscriber: Redis | undefined;
  /** With `listen`: where the app answers over HTTP (`http://127.0.0.1:PORT`). */
  readonly url: string | undefined;
  readonly logs: LogCapture;
  /** Connections the app's pools hold (open or being opened), for tests that need new ones. */
  openConnections(): number;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env: Record<string, string | undefined>;
  /** Instead of the env record (which then only documents the values). */
  readonly source?: SecretSource;
  readonly clock?: Clock;
  readonly graceMs?: number;
  readonly waitForDatabase?: boolean;
  readonly throttle?: FailureThrottle;
  readonly broadcast?: Pick<RefreshBroadcast, 'publish'>;
  readonly options?: Partial<AppOptions>;
  /** The app pool's size (10 by default). */
  readonly poolMax?: number;
  readonly credentialRefreshIntervalMs?: number;
  /**
   * Redis as the entry wires it: both connections follow REDIS_URL (a changed one is applied
   * without a restart; WRONGPASS makes them fetch it again), and refresh notices on the Redis
   * channel make this instance refresh. Without it, one plain command connection.
   */
  readonly liveRedis?: boolean;
  /** Listen on a free loopback port, for clients that speak HTTP (the CLI's --notify). */
  readonly listen?: boolean;
}

/**
 * The app as the entry builds it, over real PostgreSQL and Redis, with the engine reading an
 * environment record (env mode) and every log line captured.
 */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const logs = captureLogs();
  const env = opts.env;
  const ref: { engine?: SecretsEngine<WhatsappSaasSpec> } = {};
  const logger = createLogger({
    level: 'debug',
    destination: logs.stream,
    secretValues: () => ref.engine?.catalog.entries.flatMap((e) => ref.engine!.accepted(e.name as keyof WhatsappSaasSpec)) ?? [],
  });
  const source = opts.source ?? createEnvSource({ env, envFilePath: null });
  const engine = createSecretsEngine({
    catalog: whatsappSaasCatalog(),
    source,
    logger: logger.child({ component: 'secrets' }),
    ...(opts.clock !== undefined && { clock: opts.clock }),
    ...(opts.graceMs !== undefined && { graceMs: opts.graceMs }),
  });
  ref.engine = engine;
  await engine.initialize();
  // As the entry asks for a secret again after a refusal: that one secret, read afresh.
  const refreshAgain = (name: 'DATABASE_URL' | 'REDIS_URL') => () => engine.refresh({ names: [name], fresh: true, reason: 'auth-failure' });
  const redisUrl = () => engine.get('REDIS_URL');
  const redis = new Redis({ ...REDIS_CLIENT_OPTIONS, ...redisTargetOptions(redisTarget(redisUrl())) });
  redis.on('error', () => {});
  const subscriber = opts.liveRedis === true ? new Redis({ ...REDIS_SUBSCRIBER_OPTIONS, ...redisTargetOptions(redisTarget(redisUrl())) }) : undefined;
  subscriber?.on('error', () => {});
  const redisCredentials = createCoalescedRefresh({ run: refreshAgain('REDIS_URL'), minIntervalMs: opts.credentialRefreshIntervalMs ?? 500 });
  const followers =
    subscriber === undefined
      ? []
      : [
          followRedisCredentials(redis, 'commands', { url: redisUrl, credentials: redisCredentials, logger }),
          followRedisCredentials(subscriber, 'subscriber', { url: redisUrl, credentials: redisCredentials, logger }),
        ];
  const liveBroadcast =
    subscriber === undefined ? undefined : createRefreshBroadcast({
          publisher: redis,
          subscriber,
          engine,
          instanceId: randomBytes(8).toString('hex'),
          // As the entry: the channel of the catalog's prefix and the source's kind (the rotation function publishes on the aws one).
          channel: refreshChannel(engine.catalog, source.kind),
          logger,
        });
  await liveBroadcast?.start();
  // As the entry wires it: credentials read per connection, asked again after a refusal.
  const appPools: pg.Pool[] = [];
  const database = new Database({
    url: () => engine.get('DATABASE_URL'),
    createPool: (url, role) => {
      const pool = new pg.Pool({ ...pgPoolConfig(url, role), ...(role === 'app' && opts.poolMax !== undefined && { max: opts.poolMax }) });
      if (role === 'app') appPools.push(pool);
      return pool;
    },
    credentials: createCoalescedRefresh({ run: refreshAgain('DATABASE_URL'), minIntervalMs: opts.credentialRefreshIntervalMs ?? 500 }),
    logger,
    retryInitialMs: 100,
    retryMaxMs: 500,
  });
  const stopFollowing = engine.onRefresh((outcome) => {
    if (!outcome.ok) return;
    if (outcome.changed.some((c) => c.name === 'DATABASE_URL')) database.urlChanged();
    if (outcome.changed.some((c) => c.name === 'REDIS_URL')) for (const f of followers) f.apply();
  });
  database.start();
  if (opts.waitForDatabase ?? true) await database.whenReady();
  const app = await buildApp({
    engine,
    database,
    redis,
    logger,
    ...(opts.clock !== undefined && { clock: opts.clock }),
    // A key prefix of its own: counts left in the shared Redis by other runs never leak in.
    throttle: opts.throttle ?? isolatedThrottle(redis, opts.clock),
    ...((opts.broadcast ?? liveBroadcast) !== undefined && { broadcast: opts.broadcast ?? liveBroadcast }),
    ...(opts.options !== undefined && { options: opts.options }),
  });
  await app.ready();
  let url: string | undefined;
  if (opts.listen === true) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }
  return {
    app,
    engine,
    env,
    database,
    redis,
    subscriber,
    url,
    logs,
    openConnections: () => appPools.reduce((n, p) => n + p.totalCount, 0),
    async close() {
      await app.close();
      await liveBroadcast?.close();
      stopFollowing();
      engine.close();
      redis.disconnect();
      subscriber?.disconnect();
      await database.close();
    },
  };
}
