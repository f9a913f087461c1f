import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../src/cli/iam-policies.js';

/** The placeholder account the committed policies are written for. */
export const ACCOUNT = '123456789012';

/** KMS evaluates the key policy too; this is AWS's default one, which delegates to IAM. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

/** The IAM simulator's decision for one request under one identity policy: Allowed, ImplicitlyDenied or ExplicitlyDenied. */
export async function decide(policy: PolicyDocument, action: string, resource: string, context: Record<string, string> = {}): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'under-test', policy: policy as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: action.startsWith('kms:') ? (DEFAULT_KEY_POLICY as never) : undefined,
      request: { action, principal: `arn:aws:iam::${ACCOUNT}:role/app-role`, resource: { accountId: ACCOUNT, resource }, contextVariables: context },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}
