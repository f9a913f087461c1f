import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../../support/local-aws.js';
import { OutputScan, secretScenario, secretsCli as secretsCliOn } from '../../rotation/support/rotation-cli.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';

const T0 = 'canary-rollback-original-H3j4K5l6';

let lsm: LocalSecretsManager;
let projects = 0;
const scan = new OutputScan(T0);

beforeAll(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterAll(async () => {
  await lsm.close();
});
afterEach(() => scan.expectClean());

const scenario = () => secretScenario(lsm, `rb${++projects}`, T0);
const secretsCli = (argv: string[], cwd: string, confirm?: (q: string) => Promise<boolean>) => secretsCliOn(lsm, scan, argv, { cwd, ...(confirm !== undefined && { confirm }) });

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const versions = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].sort()]));
}

const holder = (stages: Record<string, string[]>, stage: string) => Object.keys(stages).find((id) => stages[id]!.includes(stage));

describe('secrets rollback admin-token', () => {
  it('moves ROTATION_IMMEDIATE onto the restored version, so instances refuse the rolled-away-from token once they refresh', async () => {
    const { project, secretId, cwd } = await scenario();
    const original = holder(await stagesOf(secretId), 'AWSCURRENT')!;
    const service = await startStandInService(lsm, project);
    try {
      const rotated = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);
      const rotatedId = holder(await stagesOf(secretId), 'AWSCURRENT')!;
      expect(service.engine.accepted('ADMIN_TOKEN')).toEqual([rotated.printed]);

      const { code, stdout } = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd);

      expect(code).toBe(0);
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
    const service = await startStandInService(lsm, project);
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
    const service = await startStandInService(lsm, project);
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
    expect((await secretsCli(['rollback', 'admin-token', '--yes', '--strategy', 'graceful', '--project', project], cwd)).code).toBe(2);
    const verifyId = whatsappSaasCatalog({ project }).entry('META_VERIFY_TOKEN')!.awsId;
    await localClient(lsm).send(new CreateSecretCommand({ Name: verifyId, SecretString: 'canary-rollback-verify-Q1w2' }));
    scan.secret('canary-rollback-verify-Q1w2');
    await secretsCli(['rotate', 'meta-verify-token', '--yes', '--print', '--project', project], cwd);

    const { code, stdout } = await secretsCli(['rollback', 'meta-verify-token', '--yes', '--project', project], cwd);

    expect(code).toBe(0);
    expect(stdout).toContain('x-admin-token set to the current admin token');
    expect((await localClient(lsm).send(new GetSecretValueCommand({ SecretId: verifyId }))).SecretString).toBe('canary-rollback-verify-Q1w2');
  });
});
