import { runSimulation } from '@cloud-copilot/iam-simulate';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_LOG_GROUP } from '../../src/cli/alarm-plan.js';
import { buildAlarmsPolicy } from '../../src/cli/alarms-policy.js';
import type { PolicyDocument } from '../../src/cli/iam-policies.js';
import { run } from '../../src/cli/run.js';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { TEST_CREDENTIALS } from '../support/local-aws.js';
import { startCloudWatchStub, type CloudWatchStub } from './cloudwatch-stub.js';
import { cliDeps } from './support.js';

const ACCOUNT = '123456789012';
const TRAIL = `aws-cloudtrail-logs-${ACCOUNT}-0f3e9a7c`;
const policy = buildAlarmsPolicy({ account: ACCOUNT, region: 'us-east-1', prefix: 'whatsapp-saas/mvp' });
const alarmArn = (name: string) => `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${name}`;
const logGroupArn = (name: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${name}:*`;

async function decide(doc: PolicyDocument, action: string, resource: string): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'under-test', policy: doc as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { action, principal: `arn:aws:iam::${ACCOUNT}:role/ops`, resource: { accountId: ACCOUNT, resource }, contextVariables: {} },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

/** Each call the stub saw as the IAM action and the resources AWS authorizes it on. */
function authorizations(stub: CloudWatchStub): { action: string; resource: string }[] {
  return stub.calls.flatMap(({ service, operation, input }) => {
    const action = `${service === 'monitoring' ? 'cloudwatch' : 'logs'}:${operation}`;
    if (service === 'logs') return [{ action, resource: logGroupArn(String(input.logGroupName)) }];
    const names = operation === 'DescribeAlarms' ? (input.AlarmNames as string[]) : [String(input.AlarmName)];
    return names.map((n) => ({ action, resource: alarmArn(n) }));
  });
}

describe('the alarms IAM policy under an IAM policy simulator', () => {
  it('allows every call `secrets alarms --apply` makes, and grants no action it does not make', async () => {
    const stub = await startCloudWatchStub({ logGroups: [TRAIL, DEFAULT_SERVICE_LOG_GROUP] });
    const lsm = await startLocalSecretsManager({ port: 0 });
    try {
      const config = { endpoint: stub.url, credentials: TEST_CREDENTIALS, maxAttempts: 1 };
      const c = await cliDeps(lsm, {
        cloudWatch: async (o) => new CloudWatchClient({ ...config, region: o.region }),
        cloudWatchLogs: async (o) => new CloudWatchLogsClient({ ...config, region: o.region }),
      });
      expect(await run(['alarms', '--cloudtrail-log-group', TRAIL, '--apply', '--yes'], c.deps)).toBe(0);
      const calls = authorizations(stub);

      for (const { action, resource } of calls) expect(await decide(policy, action, resource), `${action} ${resource}`).toBe('Allowed');
      const granted = policy.Statement.flatMap((s) => s.Action as string[]);
      expect(new Set(calls.map((x) => x.action))).toEqual(new Set(granted));
    } finally {
      await stub.close();
      await lsm.close();
    }
  });

  it('allows nothing outside its alarms and log groups, and no delete or metric data', async () => {
    expect(await decide(policy, 'cloudwatch:PutMetricAlarm', alarmArn('billing-alarm'))).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'cloudwatch:PutMetricAlarm', alarmArn('whatsapp-saas-prod-secrets-access-errors'))).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'cloudwatch:DeleteAlarms', alarmArn('whatsapp-saas-mvp-secrets-access-errors'))).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'cloudwatch:PutMetricData', '*')).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'logs:PutMetricFilter', logGroupArn('/ecs/other-service'))).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'logs:DeleteMetricFilter', logGroupArn(DEFAULT_SERVICE_LOG_GROUP))).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'logs:GetLogEvents', logGroupArn(TRAIL))).toBe('ImplicitlyDenied');
  });

  it('scopes the log groups to the names given to secrets iam', async () => {
    const custom = buildAlarmsPolicy({ account: ACCOUNT, region: 'us-east-1', prefix: 'whatsapp-saas/mvp', cloudTrailLogGroup: 'org-trail', serviceLogGroup: '/ec2/whatsapp-saas' });

    expect(await decide(custom, 'logs:PutMetricFilter', logGroupArn('org-trail'))).toBe('Allowed');
    expect(await decide(custom, 'logs:PutMetricFilter', logGroupArn('/ec2/whatsapp-saas'))).toBe('Allowed');
    expect(await decide(custom, 'logs:PutMetricFilter', logGroupArn(TRAIL))).toBe('ImplicitlyDenied');
  });
});
