import { alarmNamePrefix, DEFAULT_SERVICE_LOG_GROUP } from './alarm-plan.js';
import type { PolicyDocument } from './iam-policies.js';

export interface AlarmsPolicyScope {
  readonly account: string;
  readonly region: string;
  /** The catalog prefix (`whatsapp-saas/mvp`): the alarms' names derive from it. */
  readonly prefix: string;
  /** Default: the CloudTrail console's naming, `aws-cloudtrail-logs-<account>-*`. */
  readonly cloudTrailLogGroup?: string;
  /** Default: the ECS task definition's awslogs group. */
  readonly serviceLogGroup?: string;
}

/**
 * The optional policy for `secrets alarms --apply`, and nothing more: describe and put the
 * alarms it names (by their prefix), describe and put metric filters on the two log groups it
 * reads. No delete, no PutMetricData, no other alarm or log group.
 */
export function buildAlarmsPolicy(scope: AlarmsPolicyScope): PolicyDocument {
  const { account, region } = scope;
  const groups = [scope.cloudTrailLogGroup ?? `aws-cloudtrail-logs-${account}-*`, scope.serviceLogGroup ?? DEFAULT_SERVICE_LOG_GROUP];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SecretsAlarms',
        Effect: 'Allow',
        Action: ['cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm'],
        Resource: `arn:aws:cloudwatch:${region}:${account}:alarm:${alarmNamePrefix(scope.prefix)}*`,
      },
      {
        Sid: 'SecretsMetricFilters',
        Effect: 'Allow',
        Action: ['logs:DescribeMetricFilters', 'logs:PutMetricFilter'],
        // A log group's ARN appears with and without the trailing `:*` depending on the caller.
        Resource: groups.flatMap((g) => [`arn:aws:logs:${region}:${account}:log-group:${g}`, `arn:aws:logs:${region}:${account}:log-group:${g}:*`]),
      },
    ],
  };
}
