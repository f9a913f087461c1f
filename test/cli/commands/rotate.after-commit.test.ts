import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_PASSWORD_CHECKLIST } from '../../../src/cli/rotation-kinds.js';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { refreshChannel } from '../../../src/engine/index.js';
import { localClient, useLocalAws } from '../../support/local-aws.js';
import { OutputScan, secretScenario, secretsCli as secretsCliOn, type CliRunOptions } from '../../rotation/support/rotation-cli.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';
import { aclUserUrl, redisAdminCommand, redisLogsIn, setAclUser, startThrowawayRedis, type ThrowawayRedis } from '../../service/support/redis-server.js';

/**
 * What `secrets rotate` does once AWSCURRENT moved, for a kind that announces its rotation and
 * finishes at its resource (redis-password, against a Redis of its own): the refresh notice,
 * --notify, the removal of the old password, and a warning, never a failure, when one of them
 * fails. No PostgreSQL here, so `npm run mutation` runs it (rotate.credentials.test.ts has both).
 */
const ADMIN_TOKEN = 'canary-aftercommit-admin-P0o9I8u7';
const REDIS_ADMIN = `canary-aftercommit-redis-admin-${randomBytes(6).toString('hex')}`;
const NOW = Date.parse('2026-11-29T12:00:00.000Z');

let redisServer: ThrowawayRedis;
let projects = 0;
const scan = new OutputScan(ADMIN_TOKEN, REDIS_ADMIN);

const lsm = useLocalAws();
beforeAll(async () => {
  redisServer = await startThrowawayRedis({ password: REDIS_ADMIN });
}, 60_000);
afterAll(async () => {
  await redisServer.stop();
});
afterEach(() => scan.expectClean());

const secretsCli = (argv: string[], opts: CliRunOptions) => secretsCliOn(lsm, scan, argv, { now: () => NOW, ...opts });

/** The admin token, an ACL user and its REDIS_URL, and a master secret naming a user that may change ACLs. */
async function scenario() {
  const { project, secretId: adminId, cwd } = await secretScenario(lsm, `aftc${++projects}`, ADMIN_TOKEN);
  const catalog = whatsappSaasCatalog({ project });
  const role = `aftc${projects}_${process.pid}`;
  const rotator = `${role}_rotator`;
  const password = `canary-aftc-${randomBytes(8).toString('hex')}`;
  const rotatorPassword = `canary-aftc-rotator-${randomBytes(8).toString('hex')}`;
  await setAclUser(redisServer, REDIS_ADMIN, role, { add: [password] });
  await redisAdminCommand(redisServer, REDIS_ADMIN, 'ACL', 'SETUSER', role, '-@admin');
  await setAclUser(redisServer, REDIS_ADMIN, rotator, { add: [rotatorPassword] });
  const ids = { admin: adminId, redis: catalog.entry('REDIS_URL')!.awsId, master: `${project}/mvp/redis-master` };
  const client = localClient(lsm);
  await client.send(new CreateSecretCommand({ Name: ids.redis, SecretString: aclUserUrl(redisServer, role, password) }));
  await client.send(new CreateSecretCommand({ Name: ids.master, SecretString: JSON.stringify({ username: rotator, password: rotatorPassword }) }));
  for (const v of [password, rotatorPassword]) scan.secret(v);
  return { project, role, rotator, password, ids, cwd };
}

async function currentOf(secretId: string) {
  const out = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: secretId }));
  scan.secret(out.SecretString!);
  scan.secret(decodeURIComponent(new URL(out.SecretString!).password));
  return { versionId: out.VersionId!, value: out.SecretString! };
}

interface Summary {
  fromVersionId: string;
  toVersionId: string;
  refreshNoticeReceivers: number | null;
  oldCredentialRemoved: boolean;
  warnings: string[];
}

describe('secrets rotate redis-password, after the switch', () => {
  it('publishes a refresh notice, notifies each --notify instance, removes the old password once all refreshed, and reports each step', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.redis);
    const listener = new Redis(before.value, { maxRetriesPerRequest: 0 });
    const notices: string[] = [];
    listener.on('message', (_channel, message: string) => notices.push(message));
    await listener.subscribe(refreshChannel(whatsappSaasCatalog({ project: s.project }), 'aws'));
    const service = await startStandInService(lsm, s.project);
    try {
      const { code, stdout, stderr } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.master, '--notify', service.url], { cwd: s.cwd });

      expect(code, stderr).toBe(0);
      expect(stderr).not.toContain('warning');
      const after = await currentOf(s.ids.redis);
      expect(stdout).toBe(
        [
          `Rotated ${s.ids.redis} (single-user): AWSCURRENT ${before.versionId} -> ${after.versionId}`,
          'Published a refresh notice on Redis (1 listening)',
          `Notified ${service.url}: refreshed`,
          'Removed the old password: only the new one works now',
          '',
          REDIS_PASSWORD_CHECKLIST,
          '',
        ].join('\n'),
      );
      expect(notices.map((n) => JSON.parse(n) as unknown)).toEqual([
        { v: 1, origin: 'secrets-cli', reason: `rotated ${s.ids.redis}`, names: ['REDIS_URL'], versions: { REDIS_URL: after.versionId }, at: '2026-11-29T12:00:00.000Z' },
      ]);
      expect(await redisLogsIn(before.value)).toBe(false);
      expect(await redisLogsIn(after.value)).toBe(true);
      const log = await readFile(join(s.cwd, 'redis-password-rotation.log'), 'utf8');
      scan.output(log, notices.join('\n'));
      expect(JSON.parse(log)).toEqual({
        at: '2026-11-29T12:00:00.000Z',
        action: 'rotate',
        secretId: s.ids.redis,
        fromVersionId: before.versionId,
        toVersionId: after.versionId,
        strategy: 'single-user',
        caller: 'arn:aws:iam::000000000000:user/test-operator',
      });
    } finally {
      listener.disconnect();
      await service.close();
    }
  });

  it('keeps the old password and warns, naming the committed version, when one instance does not refresh', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.redis);
    const service = await startStandInService(lsm, s.project);
    let run;
    try {
      run = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.master, '--notify', service.url, '--notify', 'http://127.0.0.1:9', '--json'], {
        cwd: s.cwd,
      });
    } finally {
      await service.close();
    }
    const { code, stdout, stderr } = run;

    expect(code).toBe(0);
    const after = await currentOf(s.ids.redis);
    const warning = `the rotation is committed (AWSCURRENT of ${s.ids.redis} is now ${after.versionId}); http://127.0.0.1:9 did not refresh (HTTP unreachable): refresh instances with POST http://127.0.0.1:9/admin/refresh-secrets`;
    expect(JSON.parse(stdout)).toMatchObject({ fromVersionId: before.versionId, toVersionId: after.versionId, refreshNoticeReceivers: 0, oldCredentialRemoved: false, warnings: [warning] });
    expect(stderr).toContain(`\nwarning: ${warning}\n`);
    expect(await redisLogsIn(before.value)).toBe(true);
  });

  it('says the old password stays valid until the next rotation when no instance was named to --notify', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.redis);

    const { code, stdout } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.master], { cwd: s.cwd });

    expect(code).toBe(0);
    expect(stdout).toContain('\nThe old password stays valid until the next rotation removes it (pass every instance to --notify to remove it as soon as they have switched)\n');
    expect(stdout).not.toContain('Removed the old password');
    expect(await redisLogsIn(before.value)).toBe(true);
  });

  it('warns that no refresh notice went out when the user may not publish, and still commits', async () => {
    const s = await scenario();
    await redisAdminCommand(redisServer, REDIS_ADMIN, 'ACL', 'SETUSER', s.role, 'resetchannels');

    const { code, stdout, stderr } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.master, '--json'], { cwd: s.cwd });

    expect(code).toBe(0);
    const after = await currentOf(s.ids.redis);
    const summary = JSON.parse(stdout) as Summary;
    expect(summary.toVersionId).toBe(after.versionId);
    expect(summary.refreshNoticeReceivers).toBeNull();
    expect(summary.warnings).toEqual([
      `the rotation is committed (AWSCURRENT of ${s.ids.redis} is now ${after.versionId}); could not publish a refresh notice on Redis (NOPERM): instances switch at their next refresh, or refresh them with --notify`,
    ]);
    expect(stderr).toContain('warning: the rotation is committed');
  });

  it('warns that the old password stays valid when removing it fails after every instance refreshed', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.redis);
    const service = await startStandInService(lsm, s.project);
    let switched = false;
    try {
      // Once AWSCURRENT moved, the master user is switched off: the removal cannot log in.
      const { code, stdout, stderr } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.master, '--notify', service.url], {
        cwd: s.cwd,
        faults: {
          beforeSend: async (_n, name, input) => {
            if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') switched = true;
            if (switched && name === 'GetSecretValueCommand' && input.SecretId === s.ids.master) await redisAdminCommand(redisServer, REDIS_ADMIN, 'ACL', 'SETUSER', s.rotator, 'off');
          },
        },
      });

      expect(code).toBe(0);
      const after = await currentOf(s.ids.redis);
      expect(stderr).toContain(
        `\nwarning: the rotation is committed (AWSCURRENT of ${s.ids.redis} is now ${after.versionId}); could not remove the old password (FAILED: afterFinish for ${s.ids.redis}: the master secret ${s.ids.master} do not log in (WRONGPASS)): it stays valid until the next rotation removes it\n`,
      );
      expect(stdout).toContain('\nThe old password stays valid until the next rotation removes it');
      expect(stdout).not.toContain('Removed the old password');
      expect(await redisLogsIn(before.value)).toBe(true);
      expect(await redisLogsIn(after.value)).toBe(true);
    } finally {
      await service.close();
    }
  });

  it('stops at setSecret when the current user may not change ACLs, saying the old password still works and offering no rollback', async () => {
    const s = await scenario();
    const before = await currentOf(s.ids.redis);

    const { code, stderr } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project], { cwd: s.cwd });

    expect(code).toBe(1);
    const pending = stderr.match(/Version ([0-9a-f-]{36}) of /)?.[1];
    expect(stderr.trim()).toBe(
      `error: setSecret for ${s.ids.redis}: the current credentials may not run ACL SETUSER (NOPERM). Version ${pending} of ${s.ids.redis} is pending, not current: the old password still works (the new one may work too). Run the same command again to resume`,
    );
    expect((await currentOf(s.ids.redis)).versionId).toBe(before.versionId);
  });

  it('reports the removal in its JSON summary', async () => {
    const s = await scenario();
    const service = await startStandInService(lsm, s.project);
    try {
      const { code, stdout } = await secretsCli(['rotate', 'redis-password', '--yes', '--project', s.project, '--master-secret', s.ids.master, '--notify', service.url, '--json'], { cwd: s.cwd });

      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ resumed: false, tokenFile: null, refreshNoticeReceivers: 0, notified: [{ url: service.url, ok: true }], oldCredentialRemoved: true, warnings: [] });
    } finally {
      await service.close();
    }
  });
});
