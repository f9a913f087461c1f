import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPolicies, POLICY_FILES, type PolicyDocument } from '../../src/cli/iam-policies.js';
import { run } from '../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { decide } from './iam-simulator.js';
import { cliDeps } from './support.js';

/** The committed policies' scope: the placeholder account, with us-west-2 as the example replica region. */
const scope = { account: '123456789012', region: 'us-east-1', prefix: 'whatsapp-saas/mvp', replicaRegions: ['us-west-2'] };
const policies = buildPolicies(scope);
const secretArn = (name: string, region = 'us-east-1') => `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbC123`;
const CATALOG_IDS = whatsappSaasCatalog().entries.map((e) => e.awsId);


describe('IAM policies under an IAM policy simulator', () => {
  it('lets the app read every catalog secret, in a batch too, and nothing outside the prefix', async () => {
    for (const id of CATALOG_IDS) {
      expect(await decide(policies.readOnly, 'secretsmanager:GetSecretValue', secretArn(id))).toBe('Allowed');
      // The engine never describes a secret (see iam-policies.paths.test.ts).
      expect(await decide(policies.readOnly, 'secretsmanager:DescribeSecret', secretArn(id))).toBe('ImplicitlyDenied');
    }
    expect(await decide(policies.readOnly, 'secretsmanager:BatchGetSecretValue', '*')).toBe('Allowed');
    expect(await decide(policies.readOnly, 'secretsmanager:GetSecretValue', secretArn('other-app/prod/admin-token'))).toBe('ImplicitlyDenied');
    expect(await decide(policies.readOnly, 'secretsmanager:GetSecretValue', secretArn('whatsapp-saas/prod/admin-token'))).toBe('ImplicitlyDenied');
  });

  it('never lets the app write, delete or use secretsmanager:*', async () => {
    for (const action of ['PutSecretValue', 'CreateSecret', 'DeleteSecret', 'UpdateSecretVersionStage', 'UpdateSecret']) {
      expect(await decide(policies.readOnly, `secretsmanager:${action}`, secretArn(CATALOG_IDS[0]!))).toBe('ImplicitlyDenied');
    }
    expect(JSON.stringify(policies.readOnly)).not.toContain('secretsmanager:*');
  });

  it('lets the app decrypt with KMS only through Secrets Manager', async () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(await decide(policies.readOnly, 'kms:Decrypt', key, { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' })).toBe('Allowed');
    expect(await decide(policies.readOnly, 'kms:Decrypt', key, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' })).toBe('ImplicitlyDenied');
    expect(await decide(policies.readOnly, 'kms:Decrypt', key)).toBe('ImplicitlyDenied');
  });

  it('lets CI/CD create, put, tag, describe and schedule rotation, and never delete or list', async () => {
    const admin = secretArn('whatsapp-saas/mvp/admin-token');
    for (const action of ['CreateSecret', 'PutSecretValue', 'TagResource', 'DescribeSecret', 'RotateSecret']) {
      expect(await decide(policies.cicd, `secretsmanager:${action}`, admin)).toBe('Allowed');
    }
    expect(await decide(policies.cicd, 'secretsmanager:ListSecrets', '*')).toBe('ImplicitlyDenied');
    expect(await decide(policies.cicd, 'secretsmanager:DeleteSecret', admin)).toBe('ExplicitlyDenied');
    expect(await decide(policies.cicd, 'secretsmanager:PutSecretValue', secretArn('other-app/prod/x'))).toBe('ImplicitlyDenied');
  });

  it('lets rotation change the admin token and meta secrets, and never the database or Redis ones', async () => {
    for (const id of ['admin-token', 'meta-app-secret', 'meta-verify-token']) {
      expect(await decide(policies.rotation, 'secretsmanager:PutSecretValue', secretArn(`whatsapp-saas/mvp/${id}`))).toBe('Allowed');
      expect(await decide(policies.rotation, 'secretsmanager:UpdateSecretVersionStage', secretArn(`whatsapp-saas/mvp/${id}`))).toBe('Allowed');
    }
    for (const id of ['database-url', 'redis-url']) {
      expect(await decide(policies.rotation, 'secretsmanager:PutSecretValue', secretArn(`whatsapp-saas/mvp/${id}`))).toBe('ExplicitlyDenied');
    }
    // -??????: a secret whose name merely starts with admin-token is another secret.
    expect(await decide(policies.rotation, 'secretsmanager:PutSecretValue', secretArn('whatsapp-saas/mvp/admin-token-old'))).toBe('ImplicitlyDenied');
    expect(await decide(policies.rotation, 'secretsmanager:PutSecretValue', secretArn('whatsapp-saas/mvp/openai-api-key'))).toBe('ImplicitlyDenied');
    expect(await decide(policies.rotation, 'secretsmanager:DeleteSecret', secretArn('whatsapp-saas/mvp/admin-token'))).toBe('ImplicitlyDenied');
  });

  it('lets CI/CD make every call setup makes, and rotation every call rotate and rollback make', async () => {
    const lsm = await startLocalSecretsManager({ port: 0 });
    try {
      const c = await cliDeps(lsm);
      const operationsOf = async (argv: string[]) => {
        lsm.resetCounts();
        expect(await run(argv, c.deps)).toBe(0);
        return Object.keys(lsm.counts());
      };
      await writeFile(join(c.cwd, 'prod.env'), 'META_APP_SECRET=iam-test-app-secret-0123456789abcdef\nDATABASE_URL=postgresql://h/db\nREDIS_URL=redis://h:6379\nOPENAI_API_KEY=k\n');
      // A second run with a changed token writes it as setup does a rotatable secret: under its own label, then a compare-and-set.
      await writeFile(join(c.cwd, 'prod2.env'), 'ADMIN_TOKEN=iam-test-admin-token-0123456789abcdefABCDEF\n');
      const setupCalls = [...(await operationsOf(['setup', '--yes', '--from-env', 'prod.env'])), ...(await operationsOf(['setup', '--yes', '--from-env', 'prod2.env']))];
      expect(setupCalls).toEqual(expect.arrayContaining(['CreateSecret', 'GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage']));
      for (const op of setupCalls) {
        for (const id of CATALOG_IDS) expect(await decide(policies.cicd, `secretsmanager:${op}`, secretArn(id))).toBe('Allowed');
      }
      const rotationCalls = [...(await operationsOf(['rotate', 'admin-token', '--yes', '--force', '--print'])), ...(await operationsOf(['rollback', 'admin-token', '--yes']))];
      expect(rotationCalls).toEqual(expect.arrayContaining(['PutSecretValue', 'UpdateSecretVersionStage']));
      for (const op of rotationCalls) {
        expect(await decide(policies.rotation, `secretsmanager:${op}`, secretArn('whatsapp-saas/mvp/admin-token'))).toBe('Allowed');
      }
    } finally {
      await lsm.close();
    }
  });

  it('lets the app read a replica in a replica region, decrypting there through Secrets Manager, and never write it', async () => {
    const replicaKey = 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    for (const id of CATALOG_IDS) {
      expect(await decide(policies.readOnly, 'secretsmanager:GetSecretValue', secretArn(id, 'us-west-2'))).toBe('Allowed');
      expect(await decide(policies.readOnly, 'secretsmanager:PutSecretValue', secretArn(id, 'us-west-2'))).toBe('ImplicitlyDenied');
    }
    expect(await decide(policies.readOnly, 'kms:Decrypt', replicaKey, { 'kms:ViaService': 'secretsmanager.us-west-2.amazonaws.com' })).toBe('Allowed');
    expect(await decide(policies.readOnly, 'kms:Decrypt', replicaKey, { 'kms:ViaService': 's3.us-west-2.amazonaws.com' })).toBe('ImplicitlyDenied');
    // A region the secrets are not replicated to is not covered.
    expect(await decide(policies.readOnly, 'secretsmanager:GetSecretValue', secretArn(CATALOG_IDS[0]!, 'eu-west-1'))).toBe('ImplicitlyDenied');
  });

  it('lets rotation and CI/CD read replicas but write only in the primary region', async () => {
    const admin = 'whatsapp-saas/mvp/admin-token';
    for (const action of ['GetSecretValue', 'DescribeSecret', 'ListSecretVersionIds']) {
      expect(await decide(policies.rotation, `secretsmanager:${action}`, secretArn(admin, 'us-west-2'))).toBe('Allowed');
    }
    for (const action of ['PutSecretValue', 'UpdateSecretVersionStage']) {
      expect(await decide(policies.rotation, `secretsmanager:${action}`, secretArn(admin, 'us-west-2'))).toBe('ImplicitlyDenied');
      expect(await decide(policies.cicd, `secretsmanager:${action}`, secretArn(admin, 'us-west-2'))).toBe('ImplicitlyDenied');
    }
    expect(await decide(policies.cicd, 'secretsmanager:CreateSecret', secretArn(admin, 'us-west-2'))).toBe('ImplicitlyDenied');
    expect(await decide(policies.cicd, 'secretsmanager:DescribeSecret', secretArn(admin, 'us-west-2'))).toBe('Allowed');
    expect(await decide(policies.cicd, 'secretsmanager:ReplicateSecretToRegions', secretArn(admin))).toBe('Allowed');
    expect(await decide(policies.rotationFunction, 'secretsmanager:PutSecretValue', secretArn(admin, 'us-west-2'))).toBe('ImplicitlyDenied');
  });

  it('covers no replica region and grants no replication without --replica-regions', () => {
    const single = buildPolicies({ account: '123456789012', region: 'us-east-1', prefix: 'whatsapp-saas/mvp' });

    expect(JSON.stringify(single)).not.toContain('us-west-2');
    expect(JSON.stringify(single)).not.toContain('ReplicateSecretToRegions');
  });

  it('lets CI/CD make every call setup --replica-regions makes', async () => {
    const lsm = await startLocalSecretsManager({ port: 0 });
    try {
      const c = await cliDeps(lsm);
      await writeFile(join(c.cwd, 'prod.env'), 'META_APP_SECRET=iam-test-app-secret-0123456789abcdef\nDATABASE_URL=postgresql://h/db\nREDIS_URL=redis://h:6379\nOPENAI_API_KEY=k\n');
      expect(await run(['setup', '--yes', '--from-env', 'prod.env'], c.deps)).toBe(0);
      lsm.resetCounts();
      expect(await run(['setup', '--yes', '--from-env', 'prod.env', '--replica-regions', 'us-west-2'], c.deps)).toBe(0);
      const calls = Object.keys(lsm.counts());
      expect(calls).toContain('ReplicateSecretToRegions');
      for (const op of calls) {
        for (const id of CATALOG_IDS) expect(await decide(policies.cicd, `secretsmanager:${op}`, secretArn(id))).toBe('Allowed');
      }
    } finally {
      await lsm.close();
    }
  });

  it('commits policies equal to what secrets iam generates for the placeholder account', async () => {
    for (const [key, file] of Object.entries(POLICY_FILES) as [keyof typeof POLICY_FILES, string][]) {
      expect(JSON.parse(await readFile(join('iam-policies', file), 'utf8'))).toEqual(policies[key]);
    }
  });

  it('writes the policies for the given account, region and prefix, and refuses a malformed account', async () => {
    const lsm = await startLocalSecretsManager({ port: 0 });
    try {
      const c = await cliDeps(lsm);
      expect(await run(['iam', '--account', '210987654321', '--region', 'eu-west-1', '--prefix', 'acme/prod', '--out', 'pol'], c.deps)).toBe(0);
      const readOnly = JSON.parse(await readFile(join(c.cwd, 'pol', POLICY_FILES.readOnly), 'utf8')) as PolicyDocument;
      expect(readOnly).toEqual(buildPolicies({ account: '210987654321', region: 'eu-west-1', prefix: 'acme/prod' }).readOnly);
      expect(JSON.stringify(readOnly)).toContain('arn:aws:secretsmanager:eu-west-1:210987654321:secret:acme/prod/*');
      expect(await run(['iam', '--account', '12345'], c.deps)).toBe(2);
      expect(c.stderr()).toContain('--account must be a 12-digit AWS account id');
    } finally {
      await lsm.close();
    }
  });
});
