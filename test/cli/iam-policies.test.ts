import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { buildPolicies, type PolicyDocument } from '../../src/cli/iam-policies.js';

const scope = { account: '123456789012', region: 'us-east-1', prefix: 'whatsapp-saas/mvp' };
const policies = buildPolicies(scope);
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbC123`;
const CATALOG_IDS = [
  'admin-token', 'meta-verify-token', 'meta-app-secret', 'database-url', 'redis-url', 'openai-api-key',
  'whatsapp-phone-number-id', 'whatsapp-access-token', 'openai-model', 'openai-max-tokens', 'openai-temperature',
].map((n) => `whatsapp-saas/mvp/${n}`);

/** KMS evaluates the key policy too; this is AWS's default one, which delegates to IAM. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' }],
};

async function decide(policy: PolicyDocument, action: string, resource: string, context: Record<string, string> = {}): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'under-test', policy: policy as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: action.startsWith('kms:') ? (DEFAULT_KEY_POLICY as never) : undefined,
      request: {
        action,
        principal: 'arn:aws:iam::123456789012:role/app-role',
        resource: { accountId: '123456789012', resource },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

describe('IAM policies under an IAM policy simulator', () => {
  it('lets the app read every catalog secret, in a batch too, and nothing outside the prefix', async () => {
    for (const id of CATALOG_IDS) {
      expect(await decide(policies.readOnly, 'secretsmanager:GetSecretValue', secretArn(id))).toBe('Allowed');
      expect(await decide(policies.readOnly, 'secretsmanager:DescribeSecret', secretArn(id))).toBe('Allowed');
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

  it('lets CI/CD create, put, tag and list, and never delete', async () => {
    const admin = secretArn('whatsapp-saas/mvp/admin-token');
    for (const action of ['CreateSecret', 'PutSecretValue', 'TagResource', 'DescribeSecret']) {
      expect(await decide(policies.cicd, `secretsmanager:${action}`, admin)).toBe('Allowed');
    }
    expect(await decide(policies.cicd, 'secretsmanager:ListSecrets', '*')).toBe('Allowed');
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
    expect(await decide(policies.rotation, 'secretsmanager:PutSecretValue', secretArn('whatsapp-saas/mvp/openai-api-key'))).toBe('ImplicitlyDenied');
    expect(await decide(policies.rotation, 'secretsmanager:DeleteSecret', secretArn('whatsapp-saas/mvp/admin-token'))).toBe('ImplicitlyDenied');
  });
});
