import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { assertPrimaryRegion, replicateSecrets } from '../../src/cli/replication.js';
import { run } from '../../src/cli/run.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { createAll, localClient, putValue } from '../support/local-aws.js';
import { cliDeps } from './support.js';

const ENV = [
  'META_APP_SECRET=canary-replica-app-1a2b3c4d5e6f7g8h9i0j',
  'DATABASE_URL=postgresql://app:canary-replica-db-3c4d@127.0.0.1:5432/app',
  'REDIS_URL=redis://127.0.0.1:6379',
  'OPENAI_API_KEY=canary-replica-openai-5e6f',
].join('\n');
const ADMIN_ID = 'whatsapp-saas/mvp/admin-token';

let lsm: LocalSecretsManager;
beforeEach(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterEach(async () => {
  await lsm.close();
});

interface SetupJson {
  replicaRegions: string[];
  replication: { name: string; added: string[]; replication: { region: string; status: string }[] }[];
}

describe('secrets setup --replica-regions', () => {
  it('replicates every secret it creates, and a second run changes nothing', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);

    const code = await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2,eu-west-1', '--yes', '--json'], c.deps);
    const first = JSON.parse(c.stdout()) as SetupJson;
    const replicaValue = await localClient(lsm, { region: 'eu-west-1' }).send(new GetSecretValueCommand({ SecretId: ADMIN_ID }));
    const versionsBefore = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: ADMIN_ID }))).Versions?.length;
    c.clear();
    lsm.resetCounts();
    const again = await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2,eu-west-1', '--yes', '--json'], c.deps);
    const second = JSON.parse(c.stdout()) as SetupJson;

    expect(code).toBe(0);
    expect(first.replicaRegions).toEqual(['us-west-2', 'eu-west-1']);
    expect(first.replication.find((r) => r.name === 'ADMIN_TOKEN')?.replication).toEqual([
      { region: 'us-west-2', status: 'InSync' },
      { region: 'eu-west-1', status: 'InSync' },
    ]);
    expect(replicaValue.VersionStages).toContain('AWSCURRENT');
    expect(again).toBe(0);
    expect(second.replication.every((r) => r.added.length === 0)).toBe(true);
    expect(lsm.counts().ReplicateSecretToRegions).toBeUndefined();
    expect((await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: ADMIN_ID }))).Versions?.length).toBe(versionsBefore);
    expect(c.stdout() + c.stderr()).not.toContain('canary-replica-');
  });

  it('keeps the replica regions in the IAM policies it writes when a later run leaves out --replica-regions', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);
    await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2', '--yes'], c.deps);

    const code = await run(['setup', '--from-env', 'prod.env', '--yes'], c.deps);
    const readOnly = await readFile(join(c.cwd, '.generated/iam-policies/secrets-read-only-policy.json'), 'utf8');

    expect(code).toBe(0);
    expect(readOnly).toContain(':us-west-2:');
  });

  it('replicates secrets that exist already, adding only the missing regions, and says where writes go', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);
    await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2', '--yes'], c.deps);
    c.clear();

    const code = await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2,eu-west-1', '--yes'], c.deps);
    const described = await localClient(lsm).send(new DescribeSecretCommand({ SecretId: ADMIN_ID }));

    expect(code).toBe(0);
    expect(described.ReplicationStatus?.map((r) => r.Region)).toEqual(['us-west-2', 'eu-west-1']);
    expect(c.stderr()).toContain('Writes go to the primary region us-east-1; Secrets Manager replicates them to us-west-2, eu-west-1.');
    expect(c.stdout()).toMatch(/Replication: \d+ of \d+ secrets now replicated to us-west-2, eu-west-1/);
  });

  it('refuses a list naming the primary region or something that is not a region, as a usage error', async () => {
    const c = await cliDeps(lsm);

    const primary = await run(['setup', '--replica-regions', 'us-east-1', '--yes'], c.deps);
    const junk = await run(['setup', '--replica-regions', 'west please', '--yes'], c.deps);

    expect(primary).toBe(2);
    expect(junk).toBe(2);
    expect(c.stderr()).toContain('--replica-regions');
    expect(lsm.counts()).toEqual({});
  });

  it('refuses to write through a replica region, naming the primary', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);
    await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2', '--yes'], c.deps);
    c.clear();
    lsm.resetCounts();

    const code = await run(['setup', '--from-env', 'prod.env', '--region', 'us-west-2', '--yes'], c.deps);

    expect(code).toBe(2);
    expect(c.stderr()).toContain('read-only replica; its primary region is us-east-1');
    expect(c.stderr()).toContain('--region us-east-1');
    expect(lsm.counts('us-west-2').PutSecretValue).toBeUndefined();
    expect(lsm.counts('us-west-2').CreateSecret).toBeUndefined();
  });
});

describe('secrets rotate and rollback against a replica region', () => {
  it('refuse the write, naming the primary region', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);
    await run(['setup', '--from-env', 'prod.env', '--replica-regions', 'us-west-2', '--yes'], c.deps);
    c.clear();

    const rotated = await run(['rotate', 'admin-token', '--region', 'us-west-2', '--yes', '--print', '--force'], c.deps);
    const rotateErr = c.stderr();
    c.clear();
    // A previous version to roll back to, written in the primary and replicated.
    await putValue(localClient(lsm), ADMIN_ID, 'second-admin-token-Wq2Er4Ty6Ui8Op0As1Df3Gh');
    const rolledBack = await run(['rollback', 'admin-token', '--region', 'us-west-2', '--yes'], c.deps);

    expect(rotated).toBe(2);
    expect(rotateErr).toContain('its primary region is us-east-1');
    expect(rolledBack).toBe(2);
    expect(c.stderr()).toContain('its primary region is us-east-1');
    expect(lsm.counts('us-west-2').UpdateSecretVersionStage).toBe(1);
    expect(c.stdout() + c.stderr() + rotateErr).not.toContain('canary-replica-');
  });
});

describe('secrets status: replication', () => {
  it('shows each secret replication per region, in the table and as a replication array in --json', async () => {
    const catalog = whatsappSaasCatalog();
    await createAll(localClient(lsm), catalog, { ADMIN_TOKEN: 'status-admin-token-Qw3Er5Ty7Ui9Op1As2Df' });
    await replicateSecrets(localClient(lsm), catalog, ['us-west-2']);
    lsm.setFaults({ replicationLagMs: 60_000 }, 'eu-west-1');
    await replicateSecrets(localClient(lsm), catalog, ['us-west-2', 'eu-west-1']);
    const c = await cliDeps(lsm);

    await run(['status', '--json'], c.deps);
    const json = JSON.parse(c.stdout()) as { secrets: { name: string; replication: { region: string; status: string; statusMessage?: string }[] }[] };
    c.clear();
    await run(['status'], c.deps);

    expect(json.secrets.find((s) => s.name === 'ADMIN_TOKEN')?.replication).toEqual([
      { region: 'us-west-2', status: 'InSync' },
      { region: 'eu-west-1', status: 'InProgress' },
    ]);
    expect(json.secrets.find((s) => s.name === 'OPENAI_API_KEY')?.replication).toEqual([]);
    expect(c.stdout()).toContain('REPLICATION');
    expect(c.stdout()).toContain('us-west-2 InSync, eu-west-1 InProgress');
  });

  it('says a secret read in a replica region is a replica of its primary', async () => {
    const catalog = whatsappSaasCatalog();
    await createAll(localClient(lsm), catalog, { ADMIN_TOKEN: 'status-admin-token-Qw3Er5Ty7Ui9Op1As2Df' });
    await replicateSecrets(localClient(lsm), catalog, ['us-west-2']);
    const c = await cliDeps(lsm);

    await run(['status', '--region', 'us-west-2'], c.deps);

    expect(c.stdout()).toContain('replica of us-east-1');
  });
});

describe('assertPrimaryRegion', () => {
  it('answers the replica regions a write reaches, and skips secrets that do not exist', async () => {
    const catalog = whatsappSaasCatalog();
    await createAll(localClient(lsm), catalog, { ADMIN_TOKEN: 'status-admin-token-Qw3Er5Ty7Ui9Op1As2Df' });
    await replicateSecrets(localClient(lsm), catalog, ['us-west-2']);

    const regions = await assertPrimaryRegion(localClient(lsm), [ADMIN_ID, 'whatsapp-saas/mvp/not-there'], 'us-east-1');

    expect(regions).toEqual(['us-west-2']);
  });
});
