import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { refreshChannel } from '../../../src/engine/index.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../../support/local-aws.js';
import { OutputScan, secretsCli as secretsCliOn, type CliRunOptions } from '../../rotation/support/rotation-cli.js';
import { createLoginRole, createPostgresCluster, postgresLogsIn, setRolePassword, type PostgresCluster } from '../../service/support/postgres.js';
import { aclUserUrl, redisAdminCommand, redisLogsIn, setAclUser, startThrowawayRedis, type ThrowawayRedis } from '../../service/support/redis-server.js';

/**
 * `secrets rollback database-password` and `redis-password` (issue 15): AWSCURRENT moves back
 * only to a value the server takes, against a PostgreSQL (scram-sha-256) and a Redis (ACL users)
 * of their own, through the real SDK on the local Secrets Manager.
 */
const ADMIN_TOKEN = 'canary-credrb-admin-Z1x2C3v4B5n6M7q8W9';
const REDIS_ADMIN = `canary-redis-admin-${randomBytes(6).toString('hex')}`;
let cluster: PostgresCluster;
let redisServer: ThrowawayRedis;
let lsm: LocalSecretsManager;
let projects = 0;
const scan = new OutputScan(ADMIN_TOKEN, REDIS_ADMIN);

beforeAll(async () => {
  cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
  redisServer = await startThrowawayRedis({ password: REDIS_ADMIN });
  lsm = await startLocalSecretsManager({ port: 0 });
  scan.secret(cluster.superuserPassword!);
}, 60_000);
afterAll(async () => {
  await lsm.close();
  await redisServer.stop();
  await cluster.destroy();
});
afterEach(() => scan.expectClean());

const secretsCli = (argv: string[], opts: CliRunOptions) => secretsCliOn(lsm, scan, argv, opts);

async function scenario() {
  const project = `credrb${++projects}`;
  const catalog = whatsappSaasCatalog({ project });
  const role = `rb${projects}_${process.pid}`;
  const dbPassword = `canary-db-${randomBytes(8).toString('hex')}`;
  const redisPassword = `canary-redis-${randomBytes(8).toString('hex')}`;
  await createLoginRole(cluster.serverUrl, role, dbPassword);
  await setAclUser(redisServer, REDIS_ADMIN, role, { add: [redisPassword] });
  await redisAdminCommand(redisServer, REDIS_ADMIN, 'ACL', 'SETUSER', role, '-@admin');
  const ids = {
    database: catalog.entry('DATABASE_URL')!.awsId,
    redis: catalog.entry('REDIS_URL')!.awsId,
    databaseMaster: `${project}/mvp/database-master`,
    redisMaster: `${project}/mvp/redis-master`,
  };
  const client = localClient(lsm);
  const put = (Name: string, SecretString: string) => client.send(new CreateSecretCommand({ Name, SecretString }));
  await put(catalog.entry('ADMIN_TOKEN')!.awsId, ADMIN_TOKEN);
  const dbUrl = (user: string, password: string) => `postgresql://${user}:${password}@127.0.0.1:${cluster.port}/${role}`;
  await put(ids.database, dbUrl(role, dbPassword));
  await put(ids.redis, aclUserUrl(redisServer, role, redisPassword));
  await put(ids.databaseMaster, JSON.stringify({ username: 'postgres', password: cluster.superuserPassword }));
  await put(ids.redisMaster, JSON.stringify({ username: 'default', password: REDIS_ADMIN }));
  for (const v of [dbPassword, redisPassword]) scan.secret(v);
  return { project, role, dbPassword, redisPassword, ids, dbUrl, cwd: await mkdtemp(join(tmpdir(), 'secrets-credrb-')) };
}

async function currentOf(secretId: string): Promise<{ value: string; versionId: string }> {
  const out = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: secretId }));
  scan.secret(out.SecretString!);
  scan.secret(decodeURIComponent(new URL(out.SecretString!).password));
  return { value: out.SecretString!, versionId: out.VersionId! };
}

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const versions = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].sort()]));
}

describe('secrets rollback database-password', () => {
  it('single-user: a rotation back to the previous password (claimed, set at the server, switched); only the restored password logs in', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.database);
    expect((await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd })).code).toBe(0);
    const rotated = await currentOf(s.ids.database);
    const listener = new Redis(aclUserUrl(redisServer, s.role, s.redisPassword));
    const notices: string[] = [];
    listener.on('message', (_channel, message: string) => notices.push(message));
    await listener.subscribe(refreshChannel(whatsappSaasCatalog({ project: s.project }), 'aws'));

    const { code, stdout, stderr } = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project, '--json'], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    const after = await currentOf(s.ids.database);
    // Instances on the password rolled away from are told at once, as after a rotation.
    expect(JSON.parse(stdout)).toMatchObject({ refreshNoticeReceivers: 1, warnings: [] });
    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(JSON.parse(notices[0]!)).toMatchObject({ v: 1, origin: 'secrets-cli', reason: `rolled back ${s.ids.database}`, names: ['DATABASE_URL'], versions: { DATABASE_URL: after.versionId } });
    scan.output(notices.join('\n'));
    listener.disconnect();
    // A new version holds the previous password: the claim needs a version that is neither current nor previous.
    expect(after.value).toBe(before.value);
    expect(JSON.parse(stdout)).toMatchObject({ action: 'rollback', fromVersionId: rotated.versionId, toVersionId: after.versionId, restoredFromVersionId: before.versionId });
    const stages = await stagesOf(s.ids.database);
    expect(stages[after.versionId]).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE', expect.stringMatching(/^SWITCHED_AT_/)]);
    expect(stages[rotated.versionId]).toEqual(['AWSPREVIOUS', 'ROLLED_BACK']);
    expect(await postgresLogsIn(after.value)).toBe(true);
    expect(await postgresLogsIn(rotated.value)).toBe(false);
  });

  it('single-user: says the role has the restored password, and how to repair, when its label move loses to another switch', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.database);
    expect((await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd })).code).toBe(0);
    const client = localClient(lsm);
    // Another rotation wins the switch after the rollback set the password back: its password is no longer the role's.
    const lost = s.dbUrl(s.role, `canary-db-lost-${randomBytes(8).toString('hex')}`);
    scan.secret(lost);
    scan.secret(decodeURIComponent(new URL(lost).password));
    const other = (await client.send(new PutSecretValueCommand({ SecretId: s.ids.database, SecretString: lost, VersionStages: ['OTHER_ROTATION'] }))).VersionId!;

    const { code, stderr } = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], {
      cwd: s.cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') {
            const from = (await currentOf(s.ids.database)).versionId;
            await client.send(new UpdateSecretVersionStageCommand({ SecretId: s.ids.database, VersionStage: 'AWSCURRENT', MoveToVersionId: other, RemoveFromVersionId: from }));
          }
        },
      },
    });

    expect(code).toBe(1);
    expect(stderr).toContain(`The role's password had already been set back to version ${before.versionId}'s; the server no longer takes AWSCURRENT's password (version ${other}): repair it with secrets rotate database-password`);
    expect(await postgresLogsIn(before.value)).toBe(true);

    const repaired = await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(await postgresLogsIn((await currentOf(s.ids.database)).value)).toBe(true);
  });

  it('single-user: stops before any effect when a rotation claims the secret first, and that rotation finishes', async () => {
    const s = await scenario();
    expect((await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd })).code).toBe(0);
    const rotated = await currentOf(s.ids.database);
    const client = localClient(lsm);
    const theirs = s.dbUrl(s.role, `canary-db-theirs-${randomBytes(8).toString('hex')}`);
    scan.secret(theirs);
    scan.secret(decodeURIComponent(new URL(theirs).password));
    let claimed: string | undefined;

    // Another rotation claims AWSPENDING right before the rollback's own version is put (after its confirmation and re-read).
    const { code, stderr } = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], {
      cwd: s.cwd,
      faults: {
        beforeSend: async (_n, name) => {
          if (claimed === undefined && name === 'PutSecretValueCommand') {
            claimed = (await client.send(new PutSecretValueCommand({ SecretId: s.ids.database, SecretString: theirs, VersionStages: ['AWSPENDING'] }))).VersionId!;
          }
        },
      },
    });

    expect(code).toBe(1);
    expect(stderr).toContain(`version ${claimed} holds it`);
    expect(stderr).toContain('nothing changed');
    const stages = await stagesOf(s.ids.database);
    expect(stages[rotated.versionId]).toContain('AWSCURRENT');
    expect(stages[claimed!]).toEqual(['AWSPENDING']);
    expect(Object.values(stages).flat().filter((l) => l.startsWith('ROTATION_CANDIDATE_'))).toEqual([]);
    expect(await postgresLogsIn(rotated.value)).toBe(true);
    // The rotation that won goes on: a re-run resumes it.
    const finished = await secretsCli(['rotate', 'database-password', '--yes', '--force', '--project', s.project], { cwd: s.cwd });
    expect(finished.code, finished.stderr).toBe(0);
    expect((await currentOf(s.ids.database)).versionId).toBe(claimed);
    expect(await postgresLogsIn(theirs)).toBe(true);
  });

  it('alternating-users: switches back to the previous role, which still logs in, and changes no password', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.database);
    const rotate = ['rotate', 'database-password', '--yes', '--strategy', 'alternating-users', '--master-secret', s.ids.databaseMaster, '--project', s.project];
    expect((await secretsCli(rotate, { cwd: s.cwd })).code).toBe(0);
    const rotated = await currentOf(s.ids.database);

    const { code, stderr } = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    expect((await currentOf(s.ids.database)).versionId).toBe(before.versionId);
    expect(await postgresLogsIn(before.value)).toBe(true);
    expect(await postgresLogsIn(rotated.value)).toBe(true);
  });

  it('alternating-users: refuses, changing nothing, when the previous role no longer logs in', async () => {
    const s = await scenario();
    const rotate = ['rotate', 'database-password', '--yes', '--strategy', 'alternating-users', '--master-secret', s.ids.databaseMaster, '--project', s.project];
    expect((await secretsCli(rotate, { cwd: s.cwd })).code).toBe(0);
    await setRolePassword(cluster.serverUrl, s.role, `changed-${randomBytes(8).toString('hex')}`);
    const before = await stagesOf(s.ids.database);

    const { code, stderr } = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot roll .* back to version .*: its role's password has been changed since .* Rotate instead: secrets rotate database-password\. Nothing changed/);
    expect(await stagesOf(s.ids.database)).toEqual(before);
  });

  it('refuses to cancel an unfinished rotation whose password the server already takes, and says to finish it', async () => {
    const s = await scenario();
    const pending = `canary-pending-${randomBytes(8).toString('hex')}`;
    scan.secret(pending);
    await localClient(lsm).send(new PutSecretValueCommand({ SecretId: s.ids.database, SecretString: s.dbUrl(s.role, pending), VersionStages: ['AWSPENDING'] }));
    await setRolePassword(cluster.serverUrl, s.role, pending);
    const before = await stagesOf(s.ids.database);

    const refused = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Finish it instead: secrets rotate database-password. Nothing changed');
    expect(await stagesOf(s.ids.database)).toEqual(before);
    // Finishing it is the way back.
    expect((await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd })).code).toBe(0);
    expect(await postgresLogsIn((await currentOf(s.ids.database)).value)).toBe(true);
  });
});

describe('secrets rollback cancelling a password rotation as its password reaches the server', () => {
  async function stoppedRotation() {
    const s = await scenario();
    const pending = `canary-pending-${randomBytes(8).toString('hex')}`;
    scan.secret(pending);
    const versionId = (await localClient(lsm).send(new PutSecretValueCommand({ SecretId: s.ids.database, SecretString: s.dbUrl(s.role, pending), VersionStages: ['AWSPENDING'] }))).VersionId!;
    return { s, pending, versionId };
  }

  it('looks again after the question: the rotation set its password meanwhile, so it refuses and changes nothing', async () => {
    const { s, pending, versionId } = await stoppedRotation();
    const before = await stagesOf(s.ids.database);

    const refused = await secretsCli(['rollback', 'database-password', '--project', s.project], {
      cwd: s.cwd,
      confirm: async () => {
        await setRolePassword(cluster.serverUrl, s.role, pending);
        return true;
      },
    });

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the server took version ${versionId}'s password while you were asked`);
    expect(refused.stderr).toContain('finish it instead: secrets rotate database-password. Nothing changed');
    expect(await stagesOf(s.ids.database)).toEqual(before);
  });

  it('gives the claim back when the password reached the server as the cancel landed, so the rotation can be finished', async () => {
    const { s, pending, versionId } = await stoppedRotation();
    const before = await stagesOf(s.ids.database);

    const undone = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], {
      cwd: s.cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSPENDING' && input.MoveToVersionId === undefined) {
            await setRolePassword(cluster.serverUrl, s.role, pending);
          }
        },
      },
    });

    expect(undone.code).toBe(1);
    expect(undone.stderr).toContain(`the cancel is undone (version ${versionId} holds AWSPENDING again); finish it instead: secrets rotate database-password`);
    expect(await stagesOf(s.ids.database)).toEqual(before);
    expect((await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd })).code).toBe(0);
    expect((await currentOf(s.ids.database)).versionId).toBe(versionId);
    expect(await postgresLogsIn((await currentOf(s.ids.database)).value)).toBe(true);
  });
});

describe('secrets rollback cancelling a password rotation that is about to set its password', () => {
  it('sees the rotation that passed its claim check before the cancel: the cancel is undone and the rotation finishes', async () => {
    const s = await scenario();
    const pending = `canary-pending-${randomBytes(8).toString('hex')}`;
    scan.secret(pending);
    const versionId = (await localClient(lsm).send(new PutSecretValueCommand({ SecretId: s.ids.database, SecretString: s.dbUrl(s.role, pending), VersionStages: ['AWSPENDING'] }))).VersionId!;
    // The interleaving: the cancel looks (nothing set yet); the rotation marks its version and
    // passes its claim check; the cancel takes AWSPENDING off and looks again; then the
    // rotation runs ALTER ROLE. Without the mark the cancel reported success here and the
    // server ended on a password no label held.
    let looked!: () => void;
    const cancelLooked = new Promise<void>((r) => (looked = r));
    let checked!: () => void;
    const rotationChecked = new Promise<void>((r) => (checked = r));
    let cancelDone!: () => void;
    const rollbackDone = new Promise<void>((r) => (cancelDone = r));
    let marked = false;
    const rotation = secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], {
      cwd: s.cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && String(input.VersionStage).startsWith('ROTATION_SETTING_')) await cancelLooked;
        },
        afterSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && String(input.VersionStage).startsWith('ROTATION_SETTING_')) marked = true;
          else if (marked && name === 'ListSecretVersionIdsCommand') {
            marked = false;
            checked();
            await rollbackDone;
          }
        },
      },
    });
    const cancel = secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], {
      cwd: s.cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSPENDING' && input.MoveToVersionId === undefined) {
            looked();
            await rotationChecked;
          }
        },
      },
    }).finally(() => cancelDone());

    const [rotated, undone] = await Promise.all([rotation, cancel]);

    expect(undone.code).toBe(1);
    expect(undone.stderr).toContain(`began setting version ${versionId}'s password at the server as the cancel landed: the cancel is undone (version ${versionId} holds AWSPENDING again)`);
    expect(rotated.code, rotated.stderr).toBe(0);
    const now = await currentOf(s.ids.database);
    expect(now.versionId).toBe(versionId);
    expect(await postgresLogsIn(now.value)).toBe(true);
    expect(Object.values(await stagesOf(s.ids.database)).flat().filter((stage) => stage.startsWith('ROTATION_SETTING_'))).toEqual([]);
  });

  it('refuses, changing nothing, to cancel a rotation that began setting its password', async () => {
    const s = await scenario();
    const pending = `canary-pending-${randomBytes(8).toString('hex')}`;
    scan.secret(pending);
    const client = localClient(lsm);
    const versionId = (await client.send(new PutSecretValueCommand({ SecretId: s.ids.database, SecretString: s.dbUrl(s.role, pending), VersionStages: ['AWSPENDING'] }))).VersionId!;
    // A rotation that marked its version and stopped (or runs on elsewhere): it may set the password at any moment.
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: s.ids.database, VersionStage: `ROTATION_SETTING_${versionId}`, MoveToVersionId: versionId }));
    const before = await stagesOf(s.ids.database);

    const refused = await secretsCli(['rollback', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Cannot cancel the unfinished rotation of ${s.ids.database}: it began setting version ${versionId}'s password at the server (the version carries ROTATION_SETTING_${versionId}); finish it instead: secrets rotate database-password. Nothing changed`);
    expect(await stagesOf(s.ids.database)).toEqual(before);
    expect((await secretsCli(['rotate', 'database-password', '--yes', '--project', s.project], { cwd: s.cwd })).code).toBe(0);
    expect((await currentOf(s.ids.database)).versionId).toBe(versionId);
  });
});

describe('secrets rollback redis-password', () => {
  it('adds the previous password back to the ACL user, then moves AWSCURRENT back', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.redis);
    const withMaster = ['--master-secret', s.ids.redisMaster, '--project', s.project];
    expect((await secretsCli(['rotate', 'redis-password', '--yes', ...withMaster], { cwd: s.cwd })).code).toBe(0);
    // As after a rotation whose --notify instances all refreshed: only the new password is left.
    await setAclUser(redisServer, REDIS_ADMIN, s.role, { remove: [s.redisPassword] });
    expect(await redisLogsIn(before.value)).toBe(false);

    const { code, stderr } = await secretsCli(['rollback', 'redis-password', '--yes', ...withMaster], { cwd: s.cwd });

    expect(code, stderr).toBe(0);
    const after = await currentOf(s.ids.redis);
    expect(after.value).toBe(before.value);
    expect(await redisLogsIn(after.value)).toBe(true);
  });
});
