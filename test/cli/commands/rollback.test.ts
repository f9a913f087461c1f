import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { localClient } from '../../support/local-aws.js';
import { rotationCliFixture } from '../../rotation/support/rotation-cli.js';
import type { FaultPlan } from '../../rotation/support/faulty-client.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';
// The switch stamp (grace from the switch) is asserted in rotation-steps.test.ts; here only the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../../src/engine/source.js';

const T0 = 'canary-rollback-original-H3j4K5l6';

const cli = rotationCliFixture(T0, 'rb');
const { scan, scenario } = cli;
const secretsCli = (argv: string[], cwd: string, confirm?: (q: string) => Promise<boolean>, faults?: FaultPlan) =>
  cli.secretsCli(argv, { cwd, ...(confirm !== undefined && { confirm }), ...(faults !== undefined && { faults }) });

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const versions = (await localClient(cli.lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()]));
}

const holder = (stages: Record<string, string[]>, stage: string) => Object.keys(stages).find((id) => stages[id]!.includes(stage));

describe('secrets rollback admin-token', () => {
  it('moves ROTATION_IMMEDIATE onto the restored version, so instances refuse the rolled-away-from token once they refresh', async () => {
    const { project, secretId, cwd } = await scenario();
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    const service = await startStandInService(cli.lsm, project);
    try {
      const rotated = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);
      const rotatedId = holder(await stagesOf(secretId), 'AWSCURRENT')!;
      expect(service.engine.accepted('ADMIN_TOKEN')).toEqual([rotated.printed]);

      const { code, stdout, calls } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd);

      expect(code).toBe(0);
      // Without --notify a rollback only moves labels: it reads no secret value.
      expect(calls.filter((c) => c !== 'ListSecretVersionIdsCommand' && c !== 'UpdateSecretVersionStageCommand')).toEqual([]);
      const stages = await stagesOf(secretId);
      expect(stages[original]).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE']);
      expect(stages[rotatedId]).toEqual(['AWSPREVIOUS', 'ROLLED_BACK']);
      expect(stdout).toContain(`Rolled back ${secretId} (immediate): AWSCURRENT ${rotatedId} -> ${original}`);
      expect(stdout).toContain(`Instances keep using version ${rotatedId} until they refresh`);
      expect(stdout).toContain('POST <service>/admin/refresh-secrets with header x-admin-token set to the token of version');
      expect(stdout).toContain('Then check: secrets verify admin-token --url <service>');
      // Until it refreshes, the instance accepts only the token rolled away from.
      expect(service.engine.accepted('ADMIN_TOKEN')).toEqual([rotated.printed]);
      await service.engine.refresh();
      expect(service.engine.accepted('ADMIN_TOKEN')).toEqual([T0]);
    } finally {
      await service.close();
    }
  });

  it('leaves no ROTATION_IMMEDIATE label with --graceful, so the rolled-away-from token stays accepted for the grace window', async () => {
    const { project, secretId, cwd } = await scenario();
    const service = await startStandInService(cli.lsm, project);
    try {
      const rotated = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);
      expect(Object.values(await stagesOf(secretId)).flat()).toContain('ROTATION_IMMEDIATE');

      const { code, stdout } = await secretsCli(['rollback', 'admin-token', '--yes', '--graceful', '--project', project, '--notify', service.url], cwd);

      expect(code).toBe(0);
      expect(Object.values(await stagesOf(secretId)).flat()).not.toContain('ROTATION_IMMEDIATE');
      expect(stdout).toContain(`Notified ${service.url}: refreshed`);
      expect(stdout).not.toContain('Instances keep using');
      expect(service.engine.accepted('ADMIN_TOKEN')).toEqual([T0, rotated.printed]);
    } finally {
      await service.close();
    }
  });

  it('refuses to roll back twice without --force, naming the versions, and switches back with it', async () => {
    const { project, secretId, cwd } = await scenario();
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd);
    const rotatedId = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    expect((await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd)).code).toBe(0);
    const before = await stagesOf(secretId);

    const twice = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd);

    expect(twice.code).toBe(1);
    expect(twice.stderr.trim().split('\n')).toHaveLength(1);
    expect(twice.stderr).toContain(`${secretId} was already rolled back from version ${rotatedId} (it carries ROLLED_BACK): rolling back again would make it current again`);
    expect(twice.stderr).toContain('--force');
    expect(await stagesOf(secretId)).toEqual(before);

    const forced = await secretsCli(['rollback', 'admin-token', '--yes', '--force', '--project', project, '--json'], cwd);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ action: 'rollback', strategy: 'immediate', fromVersionId: original, toVersionId: rotatedId, refreshed: false });
    const after = await stagesOf(secretId);
    expect(after[rotatedId]).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE']);
    expect(after[original]).toEqual(['AWSPREVIOUS', 'ROLLED_BACK']);
  });

  it('names both versions in its confirmation question', async () => {
    const { project, secretId, cwd } = await scenario();
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd);
    const rotatedId = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    const asked: string[] = [];

    const { code } = await secretsCli(['rollback', 'admin-token', '--project', project], cwd, async (q) => (asked.push(q), false));

    expect(code).toBe(130);
    expect(asked).toEqual([`Roll back ${secretId} (immediate): AWSCURRENT ${rotatedId} -> ${original}? The token of ${rotatedId} is refused as soon as instances refresh.`]);
    expect(holder(await stagesOf(secretId), 'AWSCURRENT')).toBe(rotatedId);
  });

  it('says where the rolled-away-from token is when its rotation saved it in the default file', async () => {
    const { project, secretId, cwd } = await scenario();
    await secretsCli(['rotate', 'admin-token', '--yes', '--project', project], cwd);
    const rotatedId = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    const file = join(cwd, `.admin-token-new-${rotatedId}.txt`);
    scan.secret((await readFile(file, 'utf8')).trim());

    const { stdout } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project, '--json'], cwd);

    const body = JSON.parse(stdout) as { nextSteps: string[] };
    expect(body.nextSteps[0]).toContain(`the token of version ${rotatedId} (instances accept it until they refresh; it is in ${file})`);
  });

  it('authenticates --notify with the token instances still hold, and logs the rollback without values', async () => {
    const { project, secretId, cwd } = await scenario();
    const service = await startStandInService(cli.lsm, project);
    try {
      await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);
      const rotatedId = holder(await stagesOf(secretId), 'AWSCURRENT')!;

      const { code, stdout } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project, '--notify', service.url], cwd);

      expect(code).toBe(0);
      expect(stdout).toContain(`Notified ${service.url}: refreshed`);
      expect(service.received.filter((r) => r === 'POST /admin/refresh-secrets?names=ADMIN_TOKEN')).toHaveLength(2);
      expect(service.engine.status().secrets.ADMIN_TOKEN!.versionId).not.toBe(rotatedId);
      const log = (await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8')).trim().split('\n');
      scan.output(log.join('\n'));
      expect(JSON.parse(log[1]!)).toMatchObject({ action: 'rollback', secretId, fromVersionId: rotatedId, strategy: 'immediate' });
    } finally {
      await service.close();
    }
  });

  it('takes no --strategy, and rolls back the Meta verify token too', async () => {
    const { project, cwd } = await scenario();
    const strategy = await secretsCli(['rollback', 'admin-token', '--yes', '--strategy', 'graceful', '--project', project], cwd);
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toContain('rollback is immediate unless --graceful; it takes no --strategy');
    const verifyId = whatsappSaasCatalog({ project }).entry('META_VERIFY_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: verifyId, SecretString: 'canary-rollback-verify-Q1w2' }));
    scan.secret('canary-rollback-verify-Q1w2');
    await secretsCli(['rotate', 'meta-verify-token', '--yes', '--print', '--project', project], cwd);

    const { code, stdout } = await secretsCli(['rollback', 'meta-verify-token', '--yes', '--project', project], cwd);

    expect(code).toBe(0);
    expect(stdout).toContain('x-admin-token set to the current admin token');
    expect(stdout).not.toContain('secrets verify');
    expect((await localClient(cli.lsm).send(new GetSecretValueCommand({ SecretId: verifyId }))).SecretString).toBe('canary-rollback-verify-Q1w2');
  });
});

/** Labels arranged by hand, as a rotation stopped at some point leaves them: a pending version, and the labels a test moves. */
async function pendingRotation(secretId: string, labels: { immediateOnPending?: boolean; pendingOnCurrent?: boolean } = {}) {
  const client = localClient(cli.lsm);
  const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
  const pending = (await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'canary-rollback-pending-Z1x2', VersionStages: ['AWSPENDING'] }))).VersionId!;
  scan.secret('canary-rollback-pending-Z1x2');
  if (labels.immediateOnPending) await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'ROTATION_IMMEDIATE', MoveToVersionId: pending }));
  return { original, pending };
}

describe('secrets rollback of an unfinished rotation', () => {
  it('cancels it: AWSPENDING comes off the pending version, ROTATION_IMMEDIATE goes back to the current one, and AWSCURRENT stays', async () => {
    const { project, secretId, cwd } = await scenario();
    const client = localClient(cli.lsm);
    // An immediate rotation stopped between its two label moves: ROTATION_IMMEDIATE already on the pending version.
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'ROTATION_IMMEDIATE', MoveToVersionId: original }));
    const { pending } = await pendingRotation(secretId);
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'ROTATION_IMMEDIATE', MoveToVersionId: pending, RemoveFromVersionId: original }));
    const asked: string[] = [];

    const { code, stdout } = await secretsCli(['rollback', 'admin-token', '--project', project, '--json'], cwd, async (q) => (asked.push(q), true));

    expect(code).toBe(0);
    expect(asked).toEqual([`Cancel the unfinished rotation of ${secretId} (version ${pending}, never current)? AWSCURRENT stays ${original}.`]);
    // A version without labels is no longer listed.
    expect(await stagesOf(secretId)).toEqual({ [original]: ['AWSCURRENT', 'ROTATION_IMMEDIATE'] });
    expect(JSON.parse(stdout)).toEqual({
      secretId,
      action: 'cancel',
      strategy: 'immediate',
      fromVersionId: pending,
      toVersionId: original,
      notified: [],
      refreshed: false,
      nextSteps: [],
      warnings: [],
    });
    const log = await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8');
    expect(JSON.parse(log)).toEqual({ at: expect.any(String), action: 'cancel', secretId, fromVersionId: pending, toVersionId: original, caller: 'arn:aws:iam::000000000000:user/test-operator' });
  });

  it('leaves ROTATION_IMMEDIATE where it is when the stopped rotation had not moved it', async () => {
    const { project, secretId, cwd } = await scenario();
    const { original, pending } = await pendingRotation(secretId);

    await mkdir(join(cwd, 'log-is-a-folder'));

    const { code, stdout, stderr } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project, '--notify', 'http://127.0.0.1:9', '--rotation-log', 'log-is-a-folder'], cwd);

    expect(code).toBe(0);
    expect(await stagesOf(secretId)).toEqual({ [original]: ['AWSCURRENT'] });
    expect(stderr).toBe(`warning: the rotation to ${pending} is cancelled; could not append to ${join(cwd, 'log-is-a-folder')} (EISDIR)\n`);
    // A cancelled rotation changed nothing instances hold: nobody is notified.
    expect(stdout).toBe(`Cancelled the unfinished rotation of ${secretId}: version ${pending} is no longer AWSPENDING; AWSCURRENT stays ${original}\n`);
  });
});

describe('secrets rollback beside a rotation', () => {
  it('refuses, changing nothing, when a rotation finished while the operator was asked', async () => {
    const { project, secretId, cwd } = await scenario();
    const { original, pending } = await pendingRotation(secretId);
    const client = localClient(cli.lsm);
    const before = await stagesOf(secretId);

    // The rotation (the function's finish: AWSCURRENT moves, AWSPENDING stays on) lands while the cancel question is open.
    const { code, stderr } = await secretsCli(['rollback', 'admin-token', '--project', project], cwd, async () => {
      await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: original }));
      return true;
    });

    expect(code).toBe(1);
    expect(stderr).toContain('changed while you confirmed');
    expect(stderr).toContain('nothing changed');
    const after = await stagesOf(secretId);
    expect(after).toEqual({ ...before, [pending]: ['AWSCURRENT', 'AWSPENDING'], [original]: ['AWSPREVIOUS'] });
    expect(await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8').catch(() => '')).not.toContain('"action":"cancel"');
  });

  it('says nothing was cancelled when the rotation made its version current between the last look and the cancel', async () => {
    const { project, secretId, cwd } = await scenario();
    const { original, pending } = await pendingRotation(secretId);
    const client = localClient(cli.lsm);

    // The rotation function's finish lands right before the cancel's label move (it leaves AWSPENDING on, as AWS's templates do).
    const { code, stderr } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd, undefined, {
      beforeSend: async (_n, name, input) => {
        if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSPENDING') {
          await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: original }));
        }
      },
    });

    expect(code).toBe(1);
    expect(stderr).toContain(`finished before the cancel reached it: AWSCURRENT is ${pending}, nothing was cancelled`);
    expect(holder(await stagesOf(secretId), 'AWSCURRENT')).toBe(pending);
    expect(await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8').catch(() => '')).not.toContain('"action":"cancel"');
  });
});

describe('secrets rollback, labels and warnings', () => {
  it('takes AWSPENDING off the version it rolls away from when AWS left it there, so it does not look unfinished', async () => {
    const { project, secretId, cwd } = await scenario();
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--strategy', 'graceful', '--project', project], cwd);
    const stages = await stagesOf(secretId);
    const rotated = holder(stages, 'AWSCURRENT')!;
    const original = holder(stages, 'AWSPREVIOUS')!;
    await localClient(cli.lsm).send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', MoveToVersionId: rotated }));

    const { code } = await secretsCli(['rollback', 'admin-token', '--yes', '--graceful', '--project', project], cwd);

    expect(code).toBe(0);
    expect(await stagesOf(secretId)).toEqual({ [original]: ['AWSCURRENT'], [rotated]: ['AWSPREVIOUS', 'ROLLED_BACK'] });
  });

  it('warns, and still exits 0, when the ROLLED_BACK label or the log cannot be written after AWSCURRENT moved', async () => {
    const { project, secretId, cwd } = await scenario();
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd);
    const stages = await stagesOf(secretId);
    const rotated = holder(stages, 'AWSCURRENT')!;
    const original = holder(stages, 'AWSPREVIOUS')!;
    await mkdir(join(cwd, 'log-is-a-folder'));
    const throttled = Object.assign(new Error('throttled'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

    const { code, stdout, stderr } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project, '--rotation-log', 'log-is-a-folder', '--json'], cwd, undefined, {
      beforeSend: async (_n, name, input) => {
        if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'ROLLED_BACK') throw throttled;
      },
    });

    expect(code).toBe(0);
    expect(holder(await stagesOf(secretId), 'AWSCURRENT')).toBe(original);
    const committed = `the rollback is committed (AWSCURRENT of ${secretId} is now ${original})`;
    const warnings = [
      `${committed}; could not label version ${rotated} ROLLED_BACK (ThrottlingException), so rolling back again will not be noticed`,
      `${committed}; could not append to ${join(cwd, 'log-is-a-folder')} (EISDIR)`,
    ];
    expect((JSON.parse(stdout) as { warnings: string[] }).warnings).toEqual(warnings);
    expect(stderr).toBe(warnings.map((w) => `warning: ${w}\n`).join(''));
  });

  it('warns about an instance that did not refresh, and tells how to refresh with the token instances still accept', async () => {
    const { project, secretId, cwd } = await scenario();
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd);
    const rotated = holder(await stagesOf(secretId), 'AWSCURRENT')!;

    const { code, stdout, stderr } = await secretsCli(['rollback', 'admin-token', '--yes', '--graceful', '--project', project, '--notify', 'http://127.0.0.1:9'], cwd);

    expect(code).toBe(0);
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    expect(stderr).toContain(`warning: the rollback is committed (AWSCURRENT of ${secretId} is now ${original}); http://127.0.0.1:9 did not refresh (HTTP unreachable)\n`);
    expect(stdout).toBe(
      [
        `Rolled back ${secretId} (graceful): AWSCURRENT ${rotated} -> ${original}`,
        'Notified http://127.0.0.1:9: failed (HTTP unreachable)',
        `Instances keep using version ${rotated} until they refresh (at the latest when their cache expires). Refresh them now: POST <service>/admin/refresh-secrets with header x-admin-token set to the token of version ${rotated} (instances accept it until they refresh); one instance tells the others. Or pass --notify URL to rollback.`,
        'Then check: secrets verify admin-token --url <service>',
        '',
      ].join('\n'),
    );
  });

  it('asks about a graceful rollback naming the grace window', async () => {
    const { project, secretId, cwd } = await scenario();
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd);
    const rotated = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    const asked: string[] = [];

    const { code, stderr } = await secretsCli(['rollback', 'admin-token', '--graceful', '--project', project], cwd, async (q) => (asked.push(q), false));

    expect(code).toBe(130);
    expect(stderr).toContain('Rollback cancelled; nothing changed');
    expect(asked).toEqual([`Roll back ${secretId} (graceful): AWSCURRENT ${rotated} -> ${original}? The token of ${rotated} stays accepted for the grace window.`]);
  });

  it('says a secret without a current version has none, changing nothing', async () => {
    const { project, cwd } = await scenario();
    const verifyId = whatsappSaasCatalog({ project }).entry('META_VERIFY_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: verifyId }));

    const { code, stderr } = await secretsCli(['rollback', 'meta-verify-token', '--yes', '--project', project], cwd);

    expect(code).toBe(1);
    expect(stderr).toBe(`error: ${verifyId} has no AWSCURRENT version\n`);
  });

  it('reads the current admin token to notify instances after rolling back the Meta verify token', async () => {
    const { project, cwd } = await scenario();
    const verifyId = whatsappSaasCatalog({ project }).entry('META_VERIFY_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: verifyId, SecretString: 'canary-rollback-verify-N3m4' }));
    scan.secret('canary-rollback-verify-N3m4');
    const service = await startStandInService(cli.lsm, project, ['ADMIN_TOKEN', 'META_VERIFY_TOKEN']);
    try {
      await secretsCli(['rotate', 'meta-verify-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);

      const { code, stdout } = await secretsCli(['rollback', 'meta-verify-token', '--yes', '--project', project, '--notify', service.url, '--json'], cwd);

      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ notified: [{ url: service.url, ok: true }], refreshed: true, nextSteps: [], warnings: [] });
      expect(service.engine.status().secrets.META_VERIFY_TOKEN!.versionId).toBe((await localClient(cli.lsm).send(new GetSecretValueCommand({ SecretId: verifyId }))).VersionId);
    } finally {
      await service.close();
    }
  });
  it('calls a denied label move what it is, not a conflict', async () => {
    const { project, secretId, cwd } = await scenario();
    await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd);
    const before = await stagesOf(secretId);
    const denied = await cli.denying(['UpdateSecretVersionStage'], () => secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd));

    expect(denied.code).toBe(1);
    expect(denied.stderr.startsWith(`error: Access denied to ${secretId} (AccessDeniedException)`)).toBe(true);
    expect(denied.stderr).not.toContain('changed while rolling back');
    expect(await stagesOf(secretId)).toEqual(before);
  });

  it('counts a rollback refreshed only when every --notify instance refreshed, and warns when the admin token cannot be read for them', async () => {
    const { project, cwd } = await scenario();
    const catalog = whatsappSaasCatalog({ project });
    const verifyId = catalog.entry('META_VERIFY_TOKEN')!.awsId;
    const adminId = catalog.entry('ADMIN_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: verifyId, SecretString: 'canary-rollback-verify-V5b6' }));
    scan.secret('canary-rollback-verify-V5b6');
    const service = await startStandInService(cli.lsm, project, ['ADMIN_TOKEN', 'META_VERIFY_TOKEN']);
    try {
      await secretsCli(['rotate', 'meta-verify-token', '--yes', '--print', '--project', project], cwd);
      const some = await secretsCli(['rollback', 'meta-verify-token', '--yes', '--project', project, '--notify', service.url, '--notify', 'http://127.0.0.1:9', '--json'], cwd);
      expect(JSON.parse(some.stdout)).toMatchObject({ notified: [{ ok: true }, { ok: false }], refreshed: false });
      const { nextSteps } = JSON.parse(some.stdout) as { nextSteps: string[] };
      // One step: the Meta verify token has no `secrets verify` to follow it.
      expect(nextSteps).toHaveLength(1);
      expect(nextSteps[0]).toContain('x-admin-token set to the current admin token');

      const unreadable = await secretsCli(['rollback', 'meta-verify-token', '--yes', '--force', '--project', project, '--notify', service.url, '--json'], cwd, undefined, {
        beforeSend: async (_n, name, input) => {
          if (name === 'GetSecretValueCommand' && input.SecretId === adminId) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        },
      });

      expect(unreadable.code).toBe(0);
      const body = JSON.parse(unreadable.stdout) as { toVersionId: string; notified: unknown[]; warnings: string[] };
      expect(body.notified).toEqual([]);
      expect(body.warnings).toEqual([`the rollback is committed (AWSCURRENT of ${verifyId} is now ${body.toVersionId}); could not read the admin token to notify instances (ACCESS_DENIED)`]);
    } finally {
      await service.close();
    }
  });
});
