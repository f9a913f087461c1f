import { describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import {
  alarmNamePrefix,
  buildAlarmPlan,
  DEFAULT_SERVICE_LOG_GROUP,
  REFRESH_FAILED_EVENT,
  ROTATION_OVERDUE_EVENT,
  unusualAccessThresholds,
} from '../../src/cli/alarm-plan.js';
import { createSecretsEngine, SourceError } from '../../src/engine/index.js';
import { ROTATION_OVERDUE_EVENT as SERVICE_ROTATION_OVERDUE_EVENT } from '../../src/service/rotation-overdue.js';
import { typeErrors, typeErrorsAgainst } from '../deploy/support/sdk-type-check.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { MemorySource } from '../support/memory-source.js';

const catalog = whatsappSaasCatalog();
const options = { instances: 2, ttlMs: 3_600_000, cloudTrailLogGroup: 'CloudTrail/management', serviceLogGroup: DEFAULT_SERVICE_LOG_GROUP, actions: [] };

describe('unusualAccessThresholds', () => {
  it('sizes GetSecretValue from the worst case of every refresh path, as the guide shows', () => {
    // N = 2, E = 11 secrets, P = 3 accept a previous version, TTL 1 h: 3 loads an hour each.
    // scheduled x2 headroom: 2 x 6 loads x 3 = 36; manual: 6 an hour x (3 + (11 + 3) x 1) = 102;
    // rotations: 4 an hour x (2 x 2 x 1 + 3) = 28; one operator session: 11.
    expect(unusualAccessThresholds(catalog, 2, 3_600_000)).toEqual({
      loadsPerHour: 6,
      BatchGetSecretValue: 2 * 6 + 6,
      GetSecretValue: 36 + 102 + 28 + 11,
    });
  });

  it('does not trip on normal operation at 10 instances: six full manual refreshes and four rotations in the hour stay below it', () => {
    const { GetSecretValue } = unusualAccessThresholds(catalog, 10, 3_600_000);
    // One POST /admin/refresh-secrets at N instances costs 11 x (N - 1) GetSecretValue (more with
    // previous versions in a grace window); the old threshold, 18N + 11 = 191, tripped at two clicks.
    const manualHour = 6 * ((11 + 3) * 9 + 3);
    const scheduledHour = 10 * 3 * 3;
    const rotationsHour = 4 * (2 * 10 + 3);
    expect(GetSecretValue).toBeGreaterThanOrEqual(manualHour + scheduledHour + rotationsHour + 11);
    expect(GetSecretValue).toBe(1057);
  });

  it('grows with the fleet and with shorter TTLs', () => {
    expect(unusualAccessThresholds(catalog, 10, 3_600_000).BatchGetSecretValue).toBe(66);
    // TTL 5 min: up to 24 refreshes an hour each, plus the start-up load.
    expect(unusualAccessThresholds(catalog, 2, 300_000)).toMatchObject({ loadsPerHour: 50, BatchGetSecretValue: 106 });
  });
});

describe('buildAlarmPlan', () => {
  it('alarms on CallCount in AWS/Usage with the dimensions AWS publishes for Secrets Manager', () => {
    const plan = buildAlarmPlan(catalog, options);
    const usage = plan.metricAlarms.filter((a) => a.Namespace === 'AWS/Usage');

    expect(usage.map((a) => a.AlarmName)).toEqual([
      'whatsapp-saas-mvp-secrets-unusual-access-GetSecretValue',
      'whatsapp-saas-mvp-secrets-unusual-access-BatchGetSecretValue',
    ]);
    expect(usage[0]).toMatchObject({
      MetricName: 'CallCount',
      Dimensions: [
        { Name: 'Service', Value: 'Secrets Manager' },
        { Name: 'Type', Value: 'API' },
        { Name: 'Resource', Value: 'GetSecretValue' },
        { Name: 'Class', Value: 'None' },
      ],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 177,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(usage[1]!.Threshold).toBe(18);
  });

  it('never uses the metrics the seed guide named, which AWS does not publish', () => {
    const text = JSON.stringify(buildAlarmPlan(catalog, options));

    expect(text).not.toContain('SecretAccessCount');
    expect(text).not.toContain('ErrorCount');
    expect(text).not.toContain('AWS/SecretsManager');
  });

  it('counts Secrets Manager errors from CloudTrail, leaving out the routine ResourceNotFoundException', () => {
    const plan = buildAlarmPlan(catalog, options);
    const filter = plan.metricFilters.find((f) => f.logGroupName === 'CloudTrail/management')!;
    const alarm = plan.metricAlarms.find((a) => a.MetricName === filter.metricTransformations![0]!.metricName)!;

    expect(filter.filterPattern).toBe('{ ($.eventSource = "secretsmanager.amazonaws.com") && ($.errorCode = "*") && ($.errorCode != "ResourceNotFoundException") }');
    expect(alarm).toMatchObject({ AlarmName: 'whatsapp-saas-mvp-secrets-access-errors', Namespace: 'whatsapp-saas/mvp/secrets', Period: 300, Threshold: 5 });
  });

  it('leaves the access-errors filter and alarm out without a CloudTrail log group', () => {
    const { cloudTrailLogGroup: _, ...rest } = options;

    const plan = buildAlarmPlan(catalog, rest);

    expect(plan.metricFilters.map((f) => f.filterName)).toEqual(['whatsapp-saas-mvp-secrets-refresh-failures', 'whatsapp-saas-mvp-secrets-rotation-overdue']);
    expect(plan.metricAlarms).toHaveLength(4);
  });

  it('matches the refresh-failed event the engine really logs, as a top-level JSON field', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    const source = new MemorySource(() => clock.now());
    source.failAll = new SourceError('AccessDeniedException', false);
    const engine = createSecretsEngine({ catalog, source, clock, logger });
    await engine.initialize().catch(() => undefined);
    const pattern = buildAlarmPlan(catalog, options).metricFilters.find((f) => f.filterName!.endsWith('refresh-failures'))!.filterPattern;

    expect(logger.lines.map((l) => l.obj.event)).toContain(REFRESH_FAILED_EVENT);
    expect(pattern).toBe(`{ $.event = "${REFRESH_FAILED_EVENT}" }`);
    engine.close();
  });

  it('matches the rotation-overdue event the service logs', () => {
    const pattern = buildAlarmPlan(catalog, options).metricFilters.find((f) => f.filterName!.endsWith('rotation-overdue'))!.filterPattern;

    expect(ROTATION_OVERDUE_EVENT).toBe(SERVICE_ROTATION_OVERDUE_EVENT);
    expect(pattern).toBe(`{ $.event = "${SERVICE_ROTATION_OVERDUE_EVENT}" }`);
  });

  it('keeps every alarm within what PutMetricAlarm accepts: periods, evaluation range, names, namespace', () => {
    for (const a of buildAlarmPlan(catalog, { ...options, instances: 500, ttlMs: 60_000 }).metricAlarms) {
      expect(a.Period! % 60, a.AlarmName).toBe(0);
      expect(a.Period! * a.EvaluationPeriods!).toBeLessThanOrEqual(a.Period! < 3600 ? 86_400 : 604_800);
      expect(a.DatapointsToAlarm ?? a.EvaluationPeriods).toBeLessThanOrEqual(a.EvaluationPeriods!);
      expect(a.AlarmName!.startsWith(alarmNamePrefix(catalog.prefix))).toBe(true);
      expect(a.AlarmName!.length).toBeLessThanOrEqual(255);
      expect(a.AlarmDescription!.length).toBeLessThanOrEqual(1024);
      expect(a.Namespace).toMatch(/^(AWS\/Usage|(?!AWS\/)[\w.\-/#: ]{1,255})$/);
      expect(Number.isInteger(a.Threshold)).toBe(true);
    }
  });

  it('notifies the given topics on ALARM and on OK', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:ops';

    for (const a of buildAlarmPlan(catalog, { ...options, actions: [topic] }).metricAlarms) {
      expect(a).toMatchObject({ ActionsEnabled: true, AlarmActions: [topic], OKActions: [topic] });
    }
  });

  it('produces inputs the SDK types accept, as printed JSON', () => {
    const plan = JSON.parse(JSON.stringify(buildAlarmPlan(catalog, options))) as { metricFilters: unknown[]; metricAlarms: unknown[] };

    const errors = typeErrors([
      { value: plan.metricAlarms, type: 'PutMetricAlarmCommandInput[]', module: '@aws-sdk/client-cloudwatch' },
      { value: plan.metricFilters, type: 'PutMetricFilterCommandInput[]', module: '@aws-sdk/client-cloudwatch-logs' },
    ]);

    expect(errors).toEqual([]);
  }, 60_000);

  it('would fail that type check with a statistic or comparison CloudWatch does not know', () => {
    const [alarm] = buildAlarmPlan(catalog, options).metricAlarms;

    const errors = typeErrorsAgainst([{ ...alarm, Statistic: 'Total', ComparisonOperator: 'Above' }], 'PutMetricAlarmCommandInput[]', '@aws-sdk/client-cloudwatch');

    expect(errors.join('\n')).toContain('"Total"');
    expect(errors.join('\n')).toContain('"Above"');
  }, 60_000);
});
