import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { refreshChannel } from '../../../src/engine/index.js';
import { localClient, useLocalAws } from '../../support/local-aws.js';
import { OutputScan, secretsCli as secretsCliOn, type CliRunOptions } from '../../rotation/support/rotation-cli.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';
import { createLoginRole, createPostgresCluster, postgresLogsIn, setRolePassword, type PostgresCluster } from '../../service/support/postgres.js';
import { aclUserUrl, redisAdminCommand, redisLogsIn, setAclUser, startThrowawayRedis, type ThrowawayRedis } from '../../service/support/redis-server.js';

/**
 * `secrets rotate database-password` and `redis-password` against a PostgreSQL (scram-sha-256)
 * and a Redis (ACL users) of their own, through the real SDK on the local Secrets Manager.
 */
const ADMIN_TOKEN = 'canary-credrot-admin-Q1w2E3r4T5y6U7i8O9';
const REDIS_ADMIN = `canary-redis-admin-${randomBytes(6).toString('hex')}`;
let cluster: PostgresCluster;
let redisServer: ThrowawayRedis;
let projects = 0;
const scan = new OutputScan(ADMIN_TOKEN, REDIS_ADMIN);

const lsm = useLocalAws();
beforeAll(async () => {
  cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
  redisServer = await startThrowawayRedis({ password: REDIS_ADMIN });
  scan.secret(cluster.superuserPassword!);
}, 60_000);
afterAll(async () => {
  await redisServer.stop();
  await cluster.destroy();
});
afterEach(() => scan.expectClean());

const secretsCli = (argv: string[], opts: CliRunOptions) => secretsCliOn(lsm, scan, argv, opts);

/** A project of its own: the admin token, a role and DATABASE_URL, an ACL user and REDIS_URL, and both master secrets. */
async function scenario() {
  const project = `cred${++projects}`;
  const catalog = whatsappSaasCatalog({ project });
  const role = `app${projects}_${process.pid}`;
  const dbPassword = `canary-db-${randomBytes(8).toString('hex')}`;
  const redisPassword = `canary-redis-${randomBytes(8).toString('hex')}`;
  await createLoginRole(cluster.serverUrl, role, dbPassword);
  await setAclUser(redisServer, REDIS_ADMIN, role, { add: [redisPassword] });
  await redisAdminCommand(redisServer, REDIS_ADMIN, 'ACL', 'SETUSER', role, '-@admin');
  const ids = {
    database: catalog.entry('DATABASE_URL')!.awsId,
    redis: catalog.entry('REDIS_URL')!.awsId,
    admin: catalog.entry('ADMIN_TOKEN')!.awsId,
    databaseMaster: `${project}/mvp/database-master`,
    redisMaster: `${project}/mvp/redis-master`,
  };
  const client = localClient(lsm);
  const put = (Name: string, SecretString: string) => client.send(new CreateSecretCommand({ Name, SecretString }));
  await put(ids.admin, ADMIN_TOKEN);
  await put(ids.database, `postgresql://${role}:${dbPassword}@127.0.0.1:${cluster.port}/${role}`);
  await put(ids.redis, aclUserUrl(redisServer, role, redisPassword));
  await put(ids.databaseMaster, JSON.stringify({ username: 'postgres', password: cluster.superuserPassword }));
  await put(ids.redisMaster, JSON.stringify({ username: 'default', password: REDIS_ADMIN }));
  for (const v of [dbPassword, redisPassword]) scan.secret(v);
  return { project, role, dbPassword, redisPassword, ids, cwd: await mkdtemp(join(tmpdir(), 'secrets-credrot-')) };
}

async function current(secretId: string): Promise<string> {
  const value = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
  scan.secret(value);
  scan.secret(decodeURIComponent(new URL(value).password));
  return value;
}

/** Every version's value, current or pending, that logs in. */
async function valuesThatLogIn(secretId: string): Promise<{ current: boolean; pending: boolean; unfinished: string | undefined }> {
  const client = localClient(lsm);
  const versions = (await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  const currentOk = await postgresLogsIn(await current(secretId));
  const pending = versions.find((v) => v.VersionStages?.includes('AWSPENDING') && !v.VersionStages.includes('AWSCURRENT') && !v.VersionStages.includes('AWSPREVIOUS'));
  let pendingOk = false;
  if (pending !== undefined) {
    const value = (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: pending.VersionId! })).catch(() => undefined))?.SecretString;
    if (value !== undefined) {
      scan.secret(value);
      scan.secret(decodeURIComponent(new URL(value).password));
      pendingOk = await postgresLogsIn(value);
    }
  }
  return { current: currentOk, pending: pendingOk, unfinished: pending?.VersionId };
}

describe('secrets rotate database-password', () => {
  it('changes the role password, stores the new URL, pushes a refresh notice on Redis, logs the rotation and shows no value', async () => {
    const s = await scenario();
    const listener = new Redis(aclUserUrl(redisServer, s.role, s.redisPassword));
    const notices: string[] = [];
    listener.on('message', (_channel, message: string) => notices.push(message));
    await listener.subscribe(refreshChannel(whatsappSaasCatalog({ project: s.project }), 'aws'));

    const { code, stdout, stderr, calls } = await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    const now = await current(s.ids.database);
    expect(decodeURIComponent(new URL(now).username)).toBe(s.role);
    expect(await postgresLogsIn(now)).toBe(true);
    expect(await postgresLogsIn(`postgresql://${s.role}:${s.dbPassword}@127.0.0.1:${cluster.port}/${s.role}`)).toBe(false);
    expect(stdout).toMatch(new RegExp(`Rotated ${s.ids.database} \\(single-user\\): AWSCURRENT [0-9a-f-]{36} -> [0-9a-f-]{36}`));
    expect(stdout).toContain('Published a refresh notice on Redis (1 listening)');
    expect(notices.map((n) => JSON.parse(n) as Record<string, unknown>)).toEqual([expect.objectContaining({ v: 1, origin: 'secrets-cli', reason: `rotated ${s.ids.database}`, names: ['DATABASE_URL'] })]);
    const log = await readFile(join(s.cwd, 'database-password-rotation.log'), 'utf8');
    scan.output(log, notices.join('\n'));
    expect(JSON.parse(log)).toMatchObject({ action: 'rotate', secretId: s.ids.database, strategy: 'single-user' });
    expect(calls.filter((c) => c === 'PutSecretValueCommand')).toHaveLength(1);
    listener.disconnect();
  });

  it('moves to the other role with alternating-users and --master-secret, keeping the current role working', async () => {
    const s = await scenario();

    const { code, stderr } = await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project, '--strategy', 'alternating-users', '--master-secret', s.ids.databaseMaster], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    expect(decodeURIComponent(new URL(await current(s.ids.database)).username)).toBe(`${s.role}_clone`);
    expect(await postgresLogsIn(`postgresql://${s.role}:${s.dbPassword}@127.0.0.1:${cluster.port}/${s.role}`)).toBe(true);
  });

  it('refuses alternating-users without a master secret, and --print or --save-token, before asking or changing anything', async () => {
    const s = await scenario();
    let asked = false;
    const confirm = async () => ((asked = true), true);

    const noMaster = await secretsCli(['rotate', 'database-password', '--project', s.project, '--strategy', 'alternating-users'], { cwd: s.cwd, confirm });
    const print = await secretsCli(['rotate', 'database-password', '--project', s.project, '--print'], { cwd: s.cwd, confirm });
    const unknownStrategy = await secretsCli(['rotate', 'redis-password', '--project', s.project, '--strategy', 'alternating-users'], { cwd: s.cwd, confirm });

    expect(noMaster.code).toBe(2);
    expect(noMaster.stderr).toContain('--strategy alternating-users needs --master-secret ID');
    expect(print.code).toBe(2);
    expect(print.stderr).toContain('rotate database-password takes no --print');
    expect(unknownStrategy.code).toBe(2);
    expect(unknownStrategy.stderr).toContain('--strategy must be single-user');
    expect(asked).toBe(false);
    expect((await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: s.ids.database }))).Versions).toHaveLength(1);
  });

  it('is rolled back only where it can be (see rollback.credentials.test.ts): with no previous version, it says so and changes nothing', async () => {
    const s = await scenario();

    const { code, stderr } = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code).toBe(1);
    expect(stderr).toContain('has no AWSPREVIOUS version to roll back to; nothing changed');
  });

  it('stopped at any call, always leaves a value that logs in, says so without offering a rollback, and finishes when run again', async () => {
    // The calls of a clean run: plan, claim (5), the claim re-checked before setSecret, finishSecret (2), AWSPENDING off, the notice's REDIS_URL read.
    const CALLS = 12;
    let windows = 0;
    for (const mode of ['before', 'after'] as const) {
      for (let crashAt = 1; crashAt <= CALLS; crashAt++) {
        const s = await scenario();
        const argv = ['rotate', 'database-password', '--yes', '--force', '--project', s.project];

        const failed = await secretsCli(argv, { cwd: s.cwd, faults: { crashAt, mode } });
        const middle = await valuesThatLogIn(s.ids.database);
        const rerun = await secretsCli(argv, { cwd: s.cwd });
        const end = await valuesThatLogIn(s.ids.database);

        const at = `stopped ${mode} call ${crashAt}`;
        expect(middle.current || middle.pending, at).toBe(true);
        expect(failed.stderr, at).not.toContain('rollback');
        if (middle.unfinished !== undefined) expect(failed.stderr, at).toContain(middle.unfinished);
        // Between setSecret and the switch only the new password logs in: the message must not claim the old one works.
        if (!middle.current) {
          expect(failed.stderr, at).toContain('the role may already have the new password');
          windows++;
        }
        expect(rerun.code, `${at}: ${rerun.stderr}`).toBe(0);
        expect(end, at).toEqual({ current: true, pending: false, unfinished: undefined });
      }
    }
    expect(windows).toBeGreaterThan(0);
  }, 120_000);
});

describe('secrets rotate redis-password', () => {
  it('adds the new password, switches, and with every --notify instance refreshed removes the old one', async () => {
    const s = await scenario();
    const service = await startStandInService(lsm, s.project);
    const live = new Redis(aclUserUrl(redisServer, s.role, s.redisPassword), { maxRetriesPerRequest: 0 });
    await live.ping();

    const { code, stdout, stderr } = await secretsCli(
      ['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.redisMaster, '--notify', service.url, '--json'],
      { cwd: s.cwd },
    );

    expect(code, stderr).toBe(0);
    const now = await current(s.ids.redis);
    expect(await redisLogsIn(now)).toBe(true);
    expect(await redisLogsIn(aclUserUrl(redisServer, s.role, s.redisPassword))).toBe(false);
    expect(await live.ping()).toBe('PONG');
    expect(JSON.parse(stdout)).toMatchObject({ strategy: 'single-user', refreshNoticeReceivers: 0, notified: [{ url: service.url, ok: true }], oldCredentialRemoved: true, warnings: [] });
    live.disconnect();
    await service.close();
  });

  it('keeps the old password valid, and says so, when no instance was named to --notify', async () => {
    const s = await scenario();

    const { code, stdout } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.redisMaster], { cwd: s.cwd });

    expect(code).toBe(0);
    expect(await redisLogsIn(await current(s.ids.redis))).toBe(true);
    expect(await redisLogsIn(aclUserUrl(redisServer, s.role, s.redisPassword))).toBe(true);
    expect(stdout).toContain('The old password stays valid until the next rotation removes it');
  });

  it('stops at setSecret naming NOPERM when the current user may not change ACLs and no master is named; nothing about rollback', async () => {
    const s = await scenario();

    const { code, stderr } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code).toBe(1);
    expect(stderr).toContain('may not run ACL SETUSER (NOPERM)');
    expect(stderr).toContain('the old password still works');
    expect(stderr).toContain('Run the same command again to resume');
    expect(stderr).not.toContain('rollback');
  });
});

/**
 * The repair (issue 15): what defect 1 left behind under an older release, a server on the
 * password of an unlabelled version while another version is pending and AWSCURRENT's password
 * is refused. `secrets rotate` finds the version that logs in and finishes onto it.
 */
describe('secrets rotate repairs a credential whose AWSCURRENT no longer logs in', () => {
  /** Labels as defect 1 left them: A unlabelled (the server's password), B pending (never set), the original current. */
  async function defectOneState(secretId: string, valueOf: (password: string) => string) {
    const client = localClient(lsm);
    const a = `canary-repair-a-${randomBytes(8).toString('hex')}`;
    const b = `canary-repair-b-${randomBytes(8).toString('hex')}`;
    for (const v of [a, b]) scan.secret(v);
    const aId = (await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: valueOf(a), VersionStages: ['LEFT_BEHIND'] }))).VersionId!;
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'LEFT_BEHIND', RemoveFromVersionId: aId }));
    const bId = (await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: valueOf(b), VersionStages: ['AWSPENDING'] }))).VersionId!;
    return { a, aId, bId };
  }

  it('database-password: finishes onto the unlabelled version whose password the role has, taking the claim from the pending one', async () => {
    const s = await scenario();
    const url = (pw: string) => `postgresql://${s.role}:${pw}@127.0.0.1:${cluster.port}/${s.role}`;
    const { a, aId, bId } = await defectOneState(s.ids.database, url);
    await setRolePassword(cluster.serverUrl, s.role, a);
    expect(await postgresLogsIn(await current(s.ids.database))).toBe(false);

    const { code, stderr } = await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`Resuming the rotation of ${s.ids.database} to version ${aId} (a repair: the only version whose password logs in)`);
    const end = await valuesThatLogIn(s.ids.database);
    expect(end).toEqual({ current: true, pending: false, unfinished: undefined });
    const stages = Object.fromEntries(((await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: s.ids.database }))).Versions ?? []).map((v) => [v.VersionId!, v.VersionStages ?? []]));
    expect(stages[aId]).toContain('AWSCURRENT');
    expect(stages[bId] ?? []).not.toContain('AWSPENDING');
  });

  it('redis-password: finishes onto the version whose password the ACL user has', async () => {
    const s = await scenario();
    const { a, aId } = await defectOneState(s.ids.redis, (pw) => aclUserUrl(redisServer, s.role, pw));
    await setAclUser(redisServer, REDIS_ADMIN, s.role, { add: [a], remove: [s.redisPassword] });

    const { code, stderr } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.redisMaster], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    const now = await current(s.ids.redis);
    expect(await redisLogsIn(now)).toBe(true);
    expect(decodeURIComponent(new URL(now).password)).toBe(a);
    const stages = ((await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: s.ids.redis }))).Versions ?? []).find((v) => v.VersionId === aId)!.VersionStages;
    expect(stages).toContain('AWSCURRENT');
  });
});
