import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { run } from '../../../src/cli/run.js';
import { defineCatalog } from '../../../src/engine/catalog.js';
import { createAwsSource } from '../../../src/engine/aws-source.js';
import { createSecretsEngine } from '../../../src/engine/secrets-engine.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { createCredentialClients } from '../../../src/rotation/create-credential-clients.js';
import type { CredentialClients } from '../../../src/rotation/credential-clients.js';
import { handleRotationEvent } from '../../../src/rotation/lambda-rotation.js';
import type { CliDeps } from '../../../src/cli/deps.js';
import { captureLogger } from '../../support/capture-logger.js';
import { FakeClock } from '../../support/fake-clock.js';
import { localClient } from '../../support/local-aws.js';
import { adminQuery, createPostgresCluster, postgresLogsIn, type PostgresCluster } from '../../service/support/postgres.js';
import { aclUserUrl, redisAdminCommand, redisLogsIn, setAclUser, startThrowawayRedis, type ThrowawayRedis } from '../../service/support/redis-server.js';
import { crashError, type FaultPlan } from './faulty-client.js';
import { scheduledCredentialClients, type Turns } from './interleaving.js';

/**
 * The rotation protocol's world for the model-based test (rotation-protocol.model.test.ts), shared
 * by every run: one local Secrets Manager, one PostgreSQL with scram-sha-256, one Redis with ACL
 * users, one fake clock they all read (the endpoint's version dates, the CLI, the rotation
 * function, every engine). A run is one project of its own (its own secrets, role and ACL user),
 * so nothing needs resetting between runs.
 */
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:model-rotation';
/** The grace window of the engines the invariants start. */
export const GRACE_MS = 3_600_000;

export type TokenKind = 'admin-token' | 'meta-verify-token';
export type CredentialKind = 'database-password' | 'redis-password';
export type Kind = TokenKind | CredentialKind;
export const NAME_OF: Readonly<Record<Kind, string>> = {
  'admin-token': 'ADMIN_TOKEN',
  'meta-verify-token': 'META_VERIFY_TOKEN',
  'database-password': 'DATABASE_URL',
  'redis-password': 'REDIS_URL',
};

export interface ProtocolWorld {
  readonly lsm: LocalSecretsManager;
  /** The client every sequential CLI run shares (building one per run costs more than the run's calls); `crash` arms its fault. */
  readonly cliClient: SecretsManagerClient;
  crash(plan: FaultPlan | undefined): void;
  readonly credentialClients: ReturnType<typeof createCredentialClients>;
  readonly clock: FakeClock;
  readonly client: SecretsManagerClient;
  /** Values no output may show (grows as runs make new ones). */
  readonly values: Set<string>;
  /** The rotation function's logs. */
  functionLogs(): string;
  /** Makes the rotation function fail at `step` for `secretId` (a Lambda that died there), once. */
  failFunctionAt(secretId: string, step: string | undefined): void;
  newProject(kinds: readonly Kind[]): Promise<Project>;
  close(): Promise<void>;
}

export interface Project {
  readonly project: string;
  readonly cwd: string;
  readonly ids: Readonly<Record<Kind, string>>;
  readonly masters: { readonly database: string; readonly redis: string };
  /** Its values and the world's own (master passwords): none may appear in any output. */
  readonly values: readonly string[];
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One labelled view of a secret: the current and unfinished versions and their values. */
export interface SecretState {
  readonly currentId: string;
  readonly currentValue: string;
  readonly unfinishedId: string | undefined;
  readonly unfinishedValue: string | undefined;
  /** Labels of the unfinished version (ROTATION_IMMEDIATE: it was begun as an immediate rotation). */
  readonly unfinishedStages: readonly string[];
  readonly versionIds: readonly string[];
}

let worldProjects = 0;

export async function startProtocolWorld(): Promise<ProtocolWorld> {
  const clock = new FakeClock(Date.now());
  const cluster: PostgresCluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
  const redisAdmin = `model-redis-admin-${randomBytes(8).toString('hex')}`;
  const redisServer: ThrowawayRedis = await startThrowawayRedis({ password: redisAdmin });
  const lsm = await startLocalSecretsManager({ port: 0, clock: { now: () => clock.now() } });
  const client = localClient(lsm);
  const values = new Set<string>([redisAdmin, cluster.superuserPassword!]);
  const logger = captureLogger();
  const clients = createCredentialClients();
  const failures = new Map<string, string>();
  const functionClient = localClient(lsm);
  const cliClient = localClient(lsm);
  let armed: { plan: FaultPlan; calls: number } | undefined;
  // injectFaults' crash, armed per run on the shared client.
  cliClient.middlewareStack.add(
    (next) => async (args) => {
      if (armed === undefined || armed.plan.crashAt === undefined) return next(args);
      const n = ++armed.calls;
      if (n < armed.plan.crashAt) return next(args);
      if (n === armed.plan.crashAt && armed.plan.mode === 'after') await next(args);
      throw crashError();
    },
    { step: 'initialize', name: 'modelCrash' },
  );
  const catalogs = new Map<string, ReturnType<typeof whatsappSaasCatalog>>();

  lsm.registerRotationFunction(FUNCTION_ARN, async (event) => {
    const { SecretId: secretId, Step: step } = event as { SecretId: string; Step: string };
    const name = secretId.includes(':secret:') ? secretId.split(':secret:')[1]! : secretId;
    const project = name.split('/')[0]!;
    if (failures.get(name) === step) {
      failures.delete(name);
      throw new Error(`model: the rotation function died before ${step}`);
    }
    await handleRotationEvent(event, {
      client: functionClient,
      catalog: catalogs.get(project) ?? whatsappSaasCatalog({ project }),
      env: { DATABASE_ROTATION_STRATEGY: 'single-user', DATABASE_MASTER_SECRET_ID: `${project}/mvp/database-master`, REDIS_MASTER_SECRET_ID: `${project}/mvp/redis-master` },
      logger,
      clients,
      now: () => clock.now(),
    });
  });

  return {
    lsm,
    cliClient,
    crash: (plan) => (armed = plan === undefined ? undefined : { plan, calls: 0 }),
    credentialClients: clients,
    clock,
    client,
    values,
    functionLogs: () => logger.text(),
    failFunctionAt(secretId, step) {
      if (step === undefined) failures.delete(secretId);
      else failures.set(secretId, step);
    },
    async newProject(kinds) {
      const project = `model${++worldProjects}p${process.pid}`;
      const catalog = whatsappSaasCatalog({ project });
      catalogs.set(project, catalog);
      const ids = Object.fromEntries((Object.keys(NAME_OF) as Kind[]).map((k) => [k, catalog.entry(NAME_OF[k])!.awsId])) as Record<Kind, string>;
      const masters = { database: `${project}/mvp/database-master`, redis: `${project}/mvp/redis-master` };
      const env: Record<string, string> = {};
      const own = [redisAdmin, cluster.superuserPassword!];
      const put = (Name: string, SecretString: string) => client.send(new CreateSecretCommand({ Name, SecretString }));
      for (const kind of kinds) {
        if (kind === 'admin-token' || kind === 'meta-verify-token') {
          env[NAME_OF[kind]] = `model-${kind}-${randomBytes(24).toString('base64url')}`;
        } else if (kind === 'database-password') {
          const password = `model-db-${randomBytes(12).toString('hex')}`;
          // A role without a database of its own (CREATE DATABASE costs more than a whole run): it logs in to postgres.
          await adminQuery(cluster.serverUrl, `CREATE ROLE ${project} LOGIN PASSWORD '${password}'`);
          env.DATABASE_URL = `postgresql://${project}:${password}@127.0.0.1:${cluster.port}/postgres`;
          await put(masters.database, JSON.stringify({ username: 'postgres', password: cluster.superuserPassword }));
        } else {
          const password = `model-redis-${randomBytes(12).toString('hex')}`;
          await setAclUser(redisServer, redisAdmin, project, { add: [password] });
          await redisAdminCommand(redisServer, redisAdmin, 'ACL', 'SETUSER', project, '-@admin');
          env.REDIS_URL = aclUserUrl(redisServer, project, password);
          await put(masters.redis, JSON.stringify({ username: 'default', password: redisAdmin }));
        }
      }
      for (const kind of kinds) {
        const value = env[NAME_OF[kind]]!;
        values.add(value);
        values.add(passwordOf(value));
        own.push(value, passwordOf(value));
        await client.send(new CreateSecretCommand({ Name: ids[kind], SecretString: value, ClientRequestToken: `setup-${randomUUID()}` }));
      }
      const cwd = await mkdtemp(join(tmpdir(), 'secrets-model-'));
      // The file setup was first run with: every re-run of setup takes it again.
      await writeFile(join(cwd, 'first.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n'));
      return { project, cwd, ids, masters, values: own };
    },
    async close() {
      await lsm.close();
      await redisServer.stop();
      await cluster.destroy();
    },
  };
}

/** The password in a connection string (or the whole value for a token). */
export function passwordOf(value: string): string {
  if (!/^(postgres(ql)?|rediss?):\/\//.test(value)) return value;
  return decodeURIComponent(new URL(value).password);
}

/**
 * One `secrets` run of the CLI against the world, as an operator runs it; faults crash it at an AWS
 * call. With `turns` (an actor of an Interleaving), each of its Secrets Manager calls and each
 * login, SQL statement and Redis command of its credential clients waits for its turn.
 */
export async function secrets(world: ProtocolWorld, p: Project, argv: readonly string[], opts: { faults?: FaultPlan; turns?: Turns } = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  let client = world.cliClient;
  let credentialClients: CredentialClients = world.credentialClients;
  const scheduled = opts.turns !== undefined;
  if (opts.turns !== undefined) {
    // Runs at once need clients of their own: each call waits for the scheduler to release it.
    const turns = opts.turns;
    const who = argv.slice(0, 2).join(' ');
    client = localClient(world.lsm);
    client.middlewareStack.add((next, context) => (args) => turns.call(`${who}: ${context.commandName ?? ''}`, () => next(args)), { step: 'initialize', name: 'modelScheduler' });
    credentialClients = scheduledCredentialClients(world.credentialClients, turns, who);
  }
  const deps: CliDeps = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd: p.cwd,
    now: () => world.clock.now(),
    secretsManager: () => client,
    callerArn: async () => 'arn:aws:iam::000000000000:user/model-operator',
    fetch,
    credentialClients,
    confirm: async () => true,
    promptSecret: async () => '',
    terraformOutputs: async () => ({}),
    cloudWatch: async () => {
      throw new Error('the model gives the CLI no CloudWatch endpoint');
    },
    cloudWatchLogs: async () => {
      throw new Error('the model gives the CLI no CloudWatch Logs endpoint');
    },
  };
  if (!scheduled) world.crash(opts.faults);
  try {
    const code = await run([...argv, '--project', p.project], deps);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    if (!scheduled) world.crash(undefined);
  }
}

/** RotateSecret with the rotation function, as Secrets Manager runs it; resumes the unfinished version's token if there is one (AWS retries it). */
export async function rotateByFunction(world: ProtocolWorld, p: Project, kind: Kind, failAt: string | undefined): Promise<{ ok: boolean; error?: string }> {
  const secretId = p.ids[kind];
  const unfinished = (await stateOf(world, secretId)).unfinishedId;
  world.failFunctionAt(secretId, failAt);
  try {
    await world.client.send(
      new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 30 }, ClientRequestToken: unfinished ?? randomUUID() }),
    );
  } catch (err) {
    world.failFunctionAt(secretId, undefined);
    return { ok: false, error: (err as Error).name };
  }
  await world.lsm.whenRotationsIdle();
  world.failFunctionAt(secretId, undefined);
  const view = world.lsm
    .rotations()
    .filter((r) => r.secretName === secretId)
    .at(-1);
  return { ok: view?.status === 'succeeded', ...(view?.status !== 'succeeded' && { error: view?.status ?? 'none' }) };
}

export async function stateOf(world: ProtocolWorld, secretId: string): Promise<SecretState> {
  const versions = (await world.client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  const currents = versions.filter((v) => v.VersionStages?.includes('AWSCURRENT'));
  if (currents.length !== 1) throw new Error(`${secretId} has ${currents.length} AWSCURRENT versions`);
  const unfinished = versions.find((v) => v.VersionStages?.includes('AWSPENDING') && !v.VersionStages.includes('AWSCURRENT') && !v.VersionStages.includes('AWSPREVIOUS'));
  const read = async (VersionId: string) => (await world.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId }))).SecretString;
  const [currentValue, unfinishedValue] = await Promise.all([
    read(currents[0]!.VersionId!).then((v) => v!),
    unfinished === undefined ? undefined : read(unfinished.VersionId!).catch(() => undefined),
  ]);
  for (const v of [currentValue, unfinishedValue]) {
    if (v !== undefined && v !== '') {
      world.values.add(v);
      world.values.add(passwordOf(v));
    }
  }
  return { currentId: currents[0]!.VersionId!, currentValue, unfinishedId: unfinished?.VersionId, unfinishedValue, unfinishedStages: [...(unfinished?.VersionStages ?? [])], versionIds: versions.map((v) => v.VersionId!) };
}

/** What a freshly started instance accepts for each token now (current, and previous while its window is open). */
export async function freshlyAccepted(world: ProtocolWorld, p: Project, kinds: readonly TokenKind[]): Promise<Record<string, readonly string[]>> {
  const full = whatsappSaasCatalog({ project: p.project });
  const spec = Object.fromEntries(kinds.map((k) => [NAME_OF[k], full.entry(NAME_OF[k])!.spec]));
  const catalog = defineCatalog(spec, { project: p.project });
  const engine = createSecretsEngine({ catalog, source: createAwsSource({ client: world.client, region: 'us-east-1', clock: world.clock }), clock: world.clock, graceMs: GRACE_MS, autoRefresh: false });
  await engine.initialize();
  try {
    return Object.fromEntries(kinds.map((k) => [NAME_OF[k], engine.accepted(NAME_OF[k] as never)]));
  } finally {
    engine.close();
  }
}

export async function logsIn(kind: CredentialKind, url: string): Promise<boolean> {
  return kind === 'database-password' ? postgresLogsIn(url) : redisLogsIn(url);
}
