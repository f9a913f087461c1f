import { randomBytes, randomUUID } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { run } from '../../../src/cli/run.js';
import { createAwsSource } from '../../../src/engine/index.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { createCredentialClients } from '../../../src/rotation/create-credential-clients.js';
import { handleRotationEvent } from '../../../src/rotation/lambda-rotation.js';
import { DEFAULT_CREDENTIAL_REFRESH_INTERVAL_MS } from '../../../src/service/credential-refresh.js';
import { signWebhookBody } from '../../../src/service/webhook-signature.js';
import { cliDeps } from '../../cli/support.js';
import { captureLogger } from '../../support/capture-logger.js';
import { localClient } from '../../support/local-aws.js';
import { createLoginRole, createPostgresCluster, serviceSessions, type PostgresCluster } from './postgres.js';
import { redisAdminCommand, setAclUser, startThrowawayRedis, type ThrowawayRedis } from './redis-server.js';
import { startHarness, testSecrets, type Harness } from './service-harness.js';
import { waitFor } from './wait-for.js';

/**
 * A whole credential-rotation world on one machine: a PostgreSQL 15 with scram-sha-256 and a
 * Redis with ACL users, both of their own; the local Secrets Manager holding the catalog's
 * secrets and the two master secrets; service instances wired as the entry wires them (pool of
 * 20, live REDIS_URL, refresh notices over Redis, listening over HTTP); and the two ways to
 * rotate: the CLI (`secrets rotate ... --notify`) and Secrets Manager's RotateSecret calling the
 * rotation function in process. Shared by the rotation-under-load tests and `bench:reliability`.
 */
export const APP_ROLE = 'app';
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:secrets-rotation';

const catalog = whatsappSaasCatalog();
export const DATABASE_ID = catalog.entry('DATABASE_URL')!.awsId;
export const REDIS_ID = catalog.entry('REDIS_URL')!.awsId;
export const DATABASE_MASTER_ID = 'whatsapp-saas/mvp/database-master';
export const REDIS_MASTER_ID = 'whatsapp-saas/mvp/redis-master';

export type DatabaseForm = 'url' | 'json';
export type Strategy = 'single-user' | 'alternating-users';

export interface CredentialWorld {
  readonly cluster: PostgresCluster;
  readonly redisServer: ThrowawayRedis;
  readonly lsm: LocalSecretsManager;
  readonly instances: readonly Harness[];
  /** The Redis admin's (default user's) password, to look at connections and ACLs. */
  readonly redisAdminPassword: string;
  /** Every value planted or made during the run (passwords, tokens): none may appear in any output. */
  readonly values: Set<string>;
  /** Output of every CLI run and log of every instance and rotation function, for the canary scan. */
  outputs(): string;
  /** Rotates by the CLI, as an operator would; resolves the time AWSCURRENT moved. */
  rotateByCli(kind: 'database-password' | 'redis-password', strategy?: Strategy): Promise<Rotated>;
  /** Rotates through RotateSecret and the rotation function; resolves the time AWSCURRENT moved. */
  rotateByFunction(secretId: string, strategy?: Strategy): Promise<Rotated>;
  /** The value under AWSCURRENT, remembered as a value to scan for. */
  currentValue(secretId: string): Promise<string>;
  close(): Promise<void>;
}

export interface Rotated {
  /** performance.now() when UpdateSecretVersionStage moving AWSCURRENT answered. */
  readonly finishedAt: number;
  /**
   * performance.now() at a moment after setSecret's change and before finishSecret: from then on
   * no session can log in with the old single-user password, and the new role of
   * alternating-users exists. Sessions the service opens afterwards all use the new value.
   */
  readonly setAt: number;
}

const secret = () => randomBytes(24).toString('base64url');

export async function startCredentialWorld(options: { readonly instances: number; readonly form: DatabaseForm }): Promise<CredentialWorld> {
  const values = new Set<string>();
  const outputs: string[] = [];
  const cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
  const dbPassword = secret();
  await createLoginRole(cluster.serverUrl, APP_ROLE, dbPassword);
  const redisAdmin = secret();
  const redisServer = await startThrowawayRedis({ password: redisAdmin });
  const redisPassword = secret();
  await setAclUser(redisServer, redisAdmin, APP_ROLE, { add: [redisPassword] });
  // The service's user may do what the service does, not change ACLs: rotations log in as the master.
  await redisAdminCommand(redisServer, redisAdmin, 'ACL', 'SETUSER', APP_ROLE, '-@admin');
  const lsm = await startLocalSecretsManager({ port: 0 });
  const client = localClient(lsm, { maxAttempts: 2 });

  const databaseUrl =
    options.form === 'url'
      ? `postgresql://${APP_ROLE}:${dbPassword}@127.0.0.1:${cluster.port}/${APP_ROLE}`
      : JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: cluster.port, username: APP_ROLE, password: dbPassword, dbname: APP_ROLE });
  const env = testSecrets(databaseUrl, `redis://${APP_ROLE}:${redisPassword}@127.0.0.1:${redisServer.port}/0`);
  for (const v of [dbPassword, redisAdmin, redisPassword, cluster.superuserPassword!, ...Object.values(env)]) values.add(v);
  for (const { name, awsId } of catalog.entries) {
    if (env[name] !== undefined) await client.send(new CreateSecretCommand({ Name: awsId, SecretString: env[name] }));
  }
  await client.send(new CreateSecretCommand({ Name: DATABASE_MASTER_ID, SecretString: JSON.stringify({ username: 'postgres', password: cluster.superuserPassword }) }));
  await client.send(new CreateSecretCommand({ Name: REDIS_MASTER_ID, SecretString: JSON.stringify({ username: 'default', password: redisAdmin }) }));

  const instances: Harness[] = [];
  for (let i = 0; i < options.instances; i++) {
    instances.push(
      await startHarness({
        env,
        source: createAwsSource({ client: localClient(lsm, { maxAttempts: 2 }), region: 'us-east-1' }),
        poolMax: 20,
        // The entry's interval between credential refreshes, so retries wait as long as in production.
        credentialRefreshIntervalMs: DEFAULT_CREDENTIAL_REFRESH_INTERVAL_MS,
        liveRedis: true,
        listen: true,
        // The CLI notifies every instance on every rotation; a run makes more than 10 a minute.
        options: { refreshPerMinute: 10_000 },
      }),
    );
  }

  const functionLogger = captureLogger();
  const clients = createCredentialClients();
  let functionStrategy: Strategy = 'single-user';
  let moved: { finishedAt: number; setAt: number } = { finishedAt: NaN, setAt: NaN };
  /** Notes when setSecret starts and when AWSCURRENT moves, as the rotation makes those calls. */
  const watch = (c: SecretsManagerClient) => {
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { VersionStage?: string; VersionId?: string };
        const out = await next(args);
        if (context.commandName === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') moved.finishedAt = performance.now();
        return out;
      },
      { step: 'initialize', name: 'watchFinish' },
    );
    return c;
  };
  lsm.registerRotationFunction(FUNCTION_ARN, async (event) => {
    if ((event as { Step?: string }).Step === 'testSecret') moved.setAt = performance.now();
    await handleRotationEvent(event, {
      client: watch(localClient(lsm, { maxAttempts: 2 })),
      catalog,
      env: { DATABASE_ROTATION_STRATEGY: functionStrategy, DATABASE_MASTER_SECRET_ID: DATABASE_MASTER_ID, REDIS_MASTER_SECRET_ID: REDIS_MASTER_ID },
      logger: functionLogger,
      clients,
    });
  });

  const world: CredentialWorld = {
    cluster,
    redisServer,
    lsm,
    instances,
    redisAdminPassword: redisAdmin,
    values,
    outputs: () => [...outputs, functionLogger.text(), ...instances.map((h) => h.logs.text())].join('\n'),
    async rotateByCli(kind, strategy) {
      moved = { finishedAt: NaN, setAt: NaN };
      const c = await cliDeps(lsm, {
        secretsManager: () => {
          const sm = watch(localClient(lsm, { maxAttempts: 2 }));
          // The first call after the claim's re-check before setSecret (the first listing after
          // createSecret's put): finishSecret's (single-user: setSecret makes none) or the master
          // secret's read (alternating-users: its new role does not exist yet).
          let put = false;
          let checked = false;
          sm.middlewareStack.add(
            (next, context) => async (args) => {
              if (context.commandName === 'PutSecretValueCommand') put = true;
              else if (checked && Number.isNaN(moved.setAt)) moved.setAt = performance.now();
              else if (put && context.commandName === 'ListSecretVersionIdsCommand') checked = true;
              return next(args);
            },
            { step: 'initialize', name: 'watchSet' },
          );
          return sm;
        },
      });
      const master = kind === 'database-password' ? DATABASE_MASTER_ID : REDIS_MASTER_ID;
      const argv = ['rotate', kind, '--yes', '--force', '--master-secret', master, ...(strategy !== undefined ? ['--strategy', strategy] : []), ...instances.flatMap((h) => ['--notify', h.url!])];
      const code = await run(argv, c.deps);
      outputs.push(c.stdout(), c.stderr());
      if (code !== 0) throw new Error(`secrets rotate ${kind} exited ${code}: ${c.stderr()}`);
      return { ...moved };
    },
    async rotateByFunction(secretId, strategy = 'single-user') {
      moved = { finishedAt: NaN, setAt: NaN };
      functionStrategy = strategy;
      const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 30 }, ClientRequestToken: randomUUID() }));
      await lsm.whenRotationsIdle();
      const view = lsm.rotations().find((r) => r.token === VersionId);
      if (view?.status !== 'succeeded') throw new Error(`rotation of ${secretId} ${view?.status ?? 'not found'}: ${JSON.stringify(view?.steps)}`);
      return { ...moved };
    },
    async currentValue(secretId) {
      const value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
      values.add(value);
      const password = value.startsWith('{') ? (JSON.parse(value) as { password: string }).password : decodeURIComponent(new URL(value).password);
      values.add(password);
      return value;
    },
    async close() {
      for (const h of instances) await h.close();
      await lsm.close();
      await redisServer.stop();
      await cluster.destroy();
    },
  };
  return world;
}

/** The user a DATABASE_URL value logs in as, in either form. */
export function databaseUserOf(value: string): string {
  return value.startsWith('{') ? (JSON.parse(value) as { username: string }).username : decodeURIComponent(new URL(value).username);
}

export interface LoadReport {
  readonly queriesSent: number;
  readonly queriesFailed: number;
  readonly webhooksSent: number;
  readonly webhooksNon2xx: number;
  /** Commands on the instances' Redis connections (what the throttle and refresh notices use). */
  readonly redisCommandsSent: number;
  readonly redisCommandsFailed: number;
  /** Failures by code or status, for the report when there are any. */
  readonly failures: Readonly<Record<string, number>>;
  /** Queries retried after PostgreSQL refused the credentials, summed over instances. */
  readonly authRetries: number;
}

export interface Load {
  /** Queries sent so far, to tell that the load ran during a rotation. */
  queriesSent(): number;
  stop(): Promise<LoadReport>;
}

/**
 * Steady load over every instance: `queriesPerSecond` queries through the instances' pools (20
 * connections each), `webhooksPerSecond` signed webhooks through the HTTP stack (each one a
 * database insert) and `redisCommandsPerSecond` commands on their Redis connections. The rate is
 * held against elapsed time, so a slow turn sends the ones it owes.
 */
export function startLoad(
  instances: readonly Harness[],
  options: { readonly queriesPerSecond: number; readonly webhooksPerSecond: number; readonly redisCommandsPerSecond?: number },
): Load {
  const started = performance.now();
  const retriesBefore = instances.reduce((n, h) => n + h.database.stats().authRetries, 0);
  const counts = { queriesSent: 0, queriesFailed: 0, webhooksSent: 0, webhooksNon2xx: 0, redisCommandsSent: 0, redisCommandsFailed: 0 };
  const failures: Record<string, number> = {};
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const fail = (what: string) => (failures[what] = (failures[what] ?? 0) + 1);
  let on = true;
  const tick = () => {
    if (!on) return;
    const elapsedS = (performance.now() - started) / 1000;
    while (counts.queriesSent < elapsedS * options.queriesPerSecond) {
      const h = instances[counts.queriesSent % instances.length]!;
      counts.queriesSent++;
      track(
        h.database.query('SELECT count(*) FROM webhook_events').catch((err: unknown) => {
          counts.queriesFailed++;
          fail(`query ${(err as { code?: string }).code ?? (err as Error).name}`);
        }),
      );
    }
    while (counts.webhooksSent < elapsedS * options.webhooksPerSecond) {
      const h = instances[counts.webhooksSent % instances.length]!;
      counts.webhooksSent++;
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: randomUUID() }] });
      track(
        h.app
          .inject({
            method: 'POST',
            url: '/webhook',
            payload: body,
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, h.engine.get('META_APP_SECRET')) },
          })
          .then((res) => {
            if (res.statusCode < 200 || res.statusCode > 299) {
              counts.webhooksNon2xx++;
              fail(`webhook ${res.statusCode}`);
            }
          }),
      );
    }
    while (counts.redisCommandsSent < elapsedS * (options.redisCommandsPerSecond ?? 0)) {
      const h = instances[counts.redisCommandsSent % instances.length]!;
      counts.redisCommandsSent++;
      track(
        h.redis.incr(`load:${counts.redisCommandsSent % 16}`).catch((err: unknown) => {
          counts.redisCommandsFailed++;
          fail(`redis ${(err as Error).message.split(' ')[0]}`);
        }),
      );
    }
    setTimeout(tick, 5);
  };
  tick();
  return {
    queriesSent: () => counts.queriesSent,
    async stop() {
      on = false;
      while (pending.size > 0) await Promise.allSettled([...pending]);
      return { ...counts, failures, authRetries: instances.reduce((n, h) => n + h.database.stats().authRetries, 0) - retriesBefore };
    },
  };
}

/**
 * Waits until every instance's pool logs in with the current DATABASE_URL, and no session opened
 * before `since` (the rotation's setSecret) or as another role is left; resolves, in ms after
 * `finishedAt`, when each instance's new connections switched and when the last old session closed.
 */
export async function databaseSwitch(world: CredentialWorld, rotated: Rotated, switchesBefore: readonly number[], timeoutMs = 30_000): Promise<{ newConnectionsMs: number; everyInstanceMs: number }> {
  const user = databaseUserOf(await world.currentValue(DATABASE_ID));
  const sinceEpochMs = Date.now() - (performance.now() - rotated.setAt);
  let newConnectionsAt = NaN;
  await waitFor(async () => {
    if (Number.isNaN(newConnectionsAt) && world.instances.every((h, i) => h.database.stats().credentialSwitches > switchesBefore[i]!)) newConnectionsAt = performance.now();
    if (Number.isNaN(newConnectionsAt)) return false;
    const sessions = await serviceSessions(world.cluster.serverUrl);
    return sessions.every((s) => s.user === user && s.startedMs >= sinceEpochMs - 2);
  }, timeoutMs);
  return { newConnectionsMs: newConnectionsAt - rotated.finishedAt, everyInstanceMs: performance.now() - rotated.finishedAt };
}

/** Every instance's credential-switch count, to tell the next switch from earlier ones. */
export function switchCounts(world: CredentialWorld): number[] {
  return world.instances.map((h) => h.database.stats().credentialSwitches);
}

/**
 * Waits until every instance's Redis connections log in with the current REDIS_URL's password
 * when they next connect (a password change needs no reconnect: open connections stay logged in
 * as the same user); resolves ms after `finishedAt`.
 */
export async function redisSwitch(world: CredentialWorld, rotated: Rotated, timeoutMs = 30_000): Promise<number> {
  const password = decodeURIComponent(new URL(await world.currentValue(REDIS_ID)).password);
  await waitFor(() => world.instances.every((h) => h.redis.options.password === password && h.subscriber?.options.password === password), timeoutMs);
  return performance.now() - rotated.finishedAt;
}

/** Drops every connection of the service's Redis user: each instance must log in again, with what it holds. */
export async function reconnectRedisClients(world: CredentialWorld): Promise<void> {
  await redisAdminCommand(world.redisServer, world.redisAdminPassword, 'CLIENT', 'KILL', 'USER', APP_ROLE);
  await waitFor(async () => {
    for (const h of world.instances) {
      if (h.redis.status !== 'ready' || h.subscriber?.status !== 'ready') return false;
      await h.redis.ping();
    }
    return true;
  });
}
