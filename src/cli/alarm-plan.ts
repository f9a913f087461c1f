/**
 * What `secrets alarms` puts in CloudWatch: metric filters and alarms on metrics AWS really
 * publishes, as the exact PutMetricFilter / PutMetricAlarm inputs.
 *
 * The seed guide alarms on `SecretAccessCount` and `ErrorCount` in `AWS/SecretsManager`; AWS
 * publishes neither (that namespace has only `ResourceCount`, the number of secrets). What exists:
 * - API usage: `CallCount` in `AWS/Usage` with Service=Secrets Manager, Type=API,
 *   Resource=<operation>, Class=None, one count per call in the account and region;
 * - errors: CloudTrail records every Secrets Manager call with its `errorCode`; a CloudWatch
 *   Logs metric filter on the trail's log group counts them;
 * - the service's own JSON log lines (`event` field): refresh failures and overdue rotations.
 */
import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import type { PutMetricFilterCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { BATCH_SIZE, type Catalog } from '../engine/index.js';

/** The engine's log event for a failed refresh (src/engine): the refresh-failures filter matches it. */
export const REFRESH_FAILED_EVENT = 'secrets.refresh_failed';
/** The service's log event for an overdue rotation (src/service/rotation-overdue.ts). */
export const ROTATION_OVERDUE_EVENT = 'secrets.rotation_overdue';

export interface AlarmPlanOptions {
  /** How many service instances read the secrets (the fleet behind the load balancer). */
  readonly instances: number;
  /** The service's SECRETS_TTL_MS. */
  readonly ttlMs: number;
  /** The CloudWatch Logs group the CloudTrail trail delivers to; without it, no access-errors alarm. */
  readonly cloudTrailLogGroup?: string;
  /** The CloudWatch Logs group of the service's stdout (the ECS task definition's awslogs group). */
  readonly serviceLogGroup: string;
  /** Notified on ALARM and back to OK (SNS topic ARNs). */
  readonly actions: readonly string[];
}

export interface AlarmPlan {
  readonly metricFilters: readonly PutMetricFilterCommandInput[];
  readonly metricAlarms: readonly PutMetricAlarmCommandInput[];
}

export const DEFAULT_SERVICE_LOG_GROUP = '/ecs/whatsapp-saas-backend';
const HOUR_S = 3600;
/** Room above the modelled scheduled refreshes (restarts, a deploy's rolling start-ups). */
const HEADROOM = 2;
/**
 * The documented worst case of the refresh paths an operator starts, per hour (docs/SECRETS_MANAGEMENT.md,
 * "Alarms"): full manual refreshes (POST /admin/refresh-secrets without names, the status page's
 * "Refresh now") and rotations that notify the fleet (rotate --notify, the rotation function).
 */
export const MANUAL_REFRESHES_PER_HOUR = 6;
export const ROTATIONS_PER_HOUR = 4;
/** GetSecretValue calls of one rotation by the CLI or the function itself (read the current, pending and previous versions). */
const ROTATION_OWN_READS = 3;

/**
 * The most calls of one read operation the fleet makes in an hour when all is well, and the
 * threshold above which that is unusual; every term is in the guide. N instances, E secrets,
 * P of them accepting a previous version (read with GetSecretValue while a rotation's grace
 * window is open; counted as always open), B = ceil(E / 20) batch calls per load.
 * - scheduled: a refresh every [TTL/2, TTL] (the engine's jitter), so at most ceil(1 h / (TTL/2))
 *   an hour, plus one start-up load: L = N x (that + 1) loads; B batch and P GetSecretValue
 *   each; x2 headroom.
 * - manual full refresh (M an hour): the instance asked loads the whole catalog (B batch, P
 *   GetSecretValue); its notice makes each other instance read the E secrets by name, with their
 *   P previous versions: (E + P) x (N - 1) GetSecretValue.
 * - rotation (R an hour): every instance reads the rotated secret and its previous version by
 *   name (2N), plus the rotation's own reads.
 * - one operator session (`secrets setup` reads each secret once): E.
 */
export function unusualAccessThresholds(catalog: Catalog, instances: number, ttlMs: number) {
  const loadsPerInstance = Math.ceil((HOUR_S * 1000) / (ttlMs / 2)) + 1;
  const batchPerLoad = Math.ceil(catalog.entries.length / BATCH_SIZE);
  const previousPerLoad = catalog.entries.filter((e) => e.spec.acceptsPrevious === true).length;
  const secrets = catalog.entries.length;
  const loads = instances * loadsPerInstance;
  const manual = MANUAL_REFRESHES_PER_HOUR * (previousPerLoad + (secrets + previousPerLoad) * (instances - 1));
  const rotations = ROTATIONS_PER_HOUR * (2 * instances + ROTATION_OWN_READS);
  return {
    loadsPerHour: loads,
    BatchGetSecretValue: HEADROOM * loads * batchPerLoad + MANUAL_REFRESHES_PER_HOUR * batchPerLoad,
    GetSecretValue: HEADROOM * loads * previousPerLoad + manual + rotations + secrets,
  };
}

/** `whatsapp-saas/mvp` -> `whatsapp-saas-mvp-secrets-`: every name this command owns starts so. */
export function alarmNamePrefix(catalogPrefix: string): string {
  return `${catalogPrefix.replace(/\//g, '-')}-secrets-`;
}

/** Where the log-based metrics go: one custom namespace per catalog prefix. */
export function metricNamespace(catalog: Catalog): string {
  return `${catalog.prefix}/secrets`;
}

export function buildAlarmPlan(catalog: Catalog, options: AlarmPlanOptions): AlarmPlan {
  const prefix = alarmNamePrefix(catalog.prefix);
  const namespace = metricNamespace(catalog);
  const thresholds = unusualAccessThresholds(catalog, options.instances, options.ttlMs);
  const actions = { ActionsEnabled: true, AlarmActions: [...options.actions], OKActions: [...options.actions] };
  const metricFilters: PutMetricFilterCommandInput[] = [];
  const metricAlarms: PutMetricAlarmCommandInput[] = [];

  for (const operation of ['GetSecretValue', 'BatchGetSecretValue'] as const) {
    metricAlarms.push({
      AlarmName: `${prefix}unusual-access-${operation}`,
      AlarmDescription:
        `More ${operation} calls in an hour than ${options.instances} instance(s) with a ${options.ttlMs / 1000} s secrets TTL make ` +
        `(about ${thresholds.loadsPerHour} scheduled loads an hour, x${HEADROOM}) plus ${MANUAL_REFRESHES_PER_HOUR} full manual refreshes and ` +
        `${ROTATIONS_PER_HOUR} rotations an hour (docs/SECRETS_MANAGEMENT.md, Alarms). CallCount counts every caller in the account and region.`,
      ...actions,
      Namespace: 'AWS/Usage',
      MetricName: 'CallCount',
      Dimensions: [
        { Name: 'Service', Value: 'Secrets Manager' },
        { Name: 'Type', Value: 'API' },
        { Name: 'Resource', Value: operation },
        { Name: 'Class', Value: 'None' },
      ],
      Statistic: 'Sum',
      Period: HOUR_S,
      EvaluationPeriods: 1,
      Threshold: thresholds[operation],
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  }

  const logAlarm = (
    name: string,
    logGroupName: string,
    filterPattern: string,
    metricName: string,
    alarm: Pick<PutMetricAlarmCommandInput, 'AlarmDescription' | 'Period' | 'EvaluationPeriods' | 'DatapointsToAlarm' | 'Threshold'>,
  ) => {
    metricFilters.push({
      logGroupName,
      filterName: `${prefix}${name}`,
      filterPattern,
      metricTransformations: [{ metricName, metricNamespace: namespace, metricValue: '1' }],
    });
    metricAlarms.push({
      AlarmName: `${prefix}${name}`,
      ...alarm,
      ...actions,
      Namespace: namespace,
      MetricName: metricName,
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // No matching log line in a period means nothing went wrong.
      TreatMissingData: 'notBreaching',
    });
  };

  if (options.cloudTrailLogGroup !== undefined) {
    logAlarm(
      'access-errors',
      options.cloudTrailLogGroup,
      // ResourceNotFoundException is routine (setup probing for a secret, no AWSPREVIOUS yet).
      '{ ($.eventSource = "secretsmanager.amazonaws.com") && ($.errorCode = "*") && ($.errorCode != "ResourceNotFoundException") }',
      'SecretsManagerErrors',
      {
        AlarmDescription: 'Secrets Manager calls failing (AccessDenied, KMS, throttling...) in CloudTrail: 5 or more in 5 minutes.',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 5,
      },
    );
  }
  logAlarm('refresh-failures', options.serviceLogGroup, `{ $.event = "${REFRESH_FAILED_EVENT}" }`, 'SecretsRefreshFailures', {
    AlarmDescription:
      'The service could not refresh its secrets (it keeps serving cached values) in each of two 15-minute periods: a failure that backoff did not heal.',
    Period: 900,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    Threshold: 1,
  });
  logAlarm('rotation-overdue', options.serviceLogGroup, `{ $.event = "${ROTATION_OVERDUE_EVENT}" }`, 'SecretsRotationOverdue', {
    AlarmDescription: 'A secret is older than its rotation period (the service logs this every 30 minutes while it lasts). Run: secrets status',
    Period: HOUR_S,
    EvaluationPeriods: 1,
    Threshold: 1,
  });

  return { metricFilters, metricAlarms };
}
