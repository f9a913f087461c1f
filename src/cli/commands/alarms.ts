import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  type CloudWatchLogsClient,
  DescribeMetricFiltersCommand,
  type MetricFilter,
  PutMetricFilterCommand,
  type PutMetricFilterCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { classifyAwsError } from '../../engine/index.js';
import { type AlarmPlan, buildAlarmPlan, DEFAULT_SERVICE_LOG_GROUP, unusualAccessThresholds } from '../alarm-plan.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';

export type ApplyResult = 'created' | 'updated' | 'unchanged';

export interface AppliedItem {
  readonly kind: 'metricFilter' | 'metricAlarm';
  readonly name: string;
  readonly result: ApplyResult;
}

export interface AlarmClients {
  readonly cloudWatch: CloudWatchClient;
  readonly logs: CloudWatchLogsClient;
}

/** A CloudWatch or Logs failure as a CliError naming the call and the AWS code, never a message body. */
function fromCloudWatchError(err: unknown, call: string, target: string): CliError {
  const { code } = classifyAwsError(err);
  switch (code) {
    case 'ResourceNotFoundException':
    case 'ResourceNotFound':
      return new CliError('NOT_FOUND', `${call} for ${target} failed: not found (${code}); check the log group name (--cloudtrail-log-group, --service-log-group)`, { cause: err });
    case 'AccessDeniedException':
    case 'AccessDenied':
      return new CliError('ACCESS_DENIED', `${call} for ${target} was denied (${code}): attach iam-policies/secrets-alarms-policy.json (secrets iam)`, { cause: err });
    case 'CredentialsProviderError':
      return new CliError('CREDENTIALS', 'No AWS credentials found: set AWS_PROFILE (or --profile), or run on a role', { cause: err });
    default:
      return new CliError('FAILED', `${call} for ${target} failed (${code})`, { cause: err });
  }
}

const sameList = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
const byName = (a: { Name?: string | undefined }, b: { Name?: string | undefined }) => (a.Name ?? '').localeCompare(b.Name ?? '');

/** Whether the stored alarm already has every setting we would put (Tags are create-only; we set none). */
function alarmMatches(want: PutMetricAlarmCommandInput, have: MetricAlarm): boolean {
  return (Object.keys(want) as (keyof PutMetricAlarmCommandInput)[]).every((key) => {
    const w = want[key];
    const h = (have as Record<string, unknown>)[key];
    if (key === 'Dimensions') return sameList([...(want.Dimensions ?? [])].sort(byName), [...(have.Dimensions ?? [])].sort(byName));
    if (Array.isArray(w) || Array.isArray(h)) return sameList(w as unknown[], h as unknown[]);
    return w === h;
  });
}

function filterMatches(want: PutMetricFilterCommandInput, have: MetricFilter): boolean {
  const transform = (t: NonNullable<MetricFilter['metricTransformations']>[number]) => ({
    metricName: t.metricName,
    metricNamespace: t.metricNamespace,
    metricValue: t.metricValue,
    defaultValue: t.defaultValue,
    unit: t.unit,
    dimensions: t.dimensions,
  });
  return want.filterPattern === have.filterPattern && sameList((want.metricTransformations ?? []).map(transform), (have.metricTransformations ?? []).map(transform));
}

/** What applying the plan would do to each filter and alarm, from Describe calls (read-only). */
export async function diffAlarmPlan(clients: AlarmClients, plan: AlarmPlan): Promise<AppliedItem[]> {
  const items: AppliedItem[] = [];
  for (const want of plan.metricFilters) {
    let found: MetricFilter | undefined;
    try {
      const out = await clients.logs.send(new DescribeMetricFiltersCommand({ logGroupName: want.logGroupName, filterNamePrefix: want.filterName }));
      found = out.metricFilters?.find((f) => f.filterName === want.filterName);
    } catch (err) {
      throw fromCloudWatchError(err, 'DescribeMetricFilters', `log group ${want.logGroupName}`);
    }
    items.push({ kind: 'metricFilter', name: want.filterName!, result: found === undefined ? 'created' : filterMatches(want, found) ? 'unchanged' : 'updated' });
  }
  let existing: MetricAlarm[];
  try {
    const names = plan.metricAlarms.map((a) => a.AlarmName!);
    existing = (await clients.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm'], MaxRecords: 100 }))).MetricAlarms ?? [];
  } catch (err) {
    throw fromCloudWatchError(err, 'DescribeAlarms', 'the secrets alarms');
  }
  for (const want of plan.metricAlarms) {
    const found = existing.find((a) => a.AlarmName === want.AlarmName);
    items.push({ kind: 'metricAlarm', name: want.AlarmName!, result: found === undefined ? 'created' : alarmMatches(want, found) ? 'unchanged' : 'updated' });
  }
  return items;
}

/** Puts the filters (first: the alarms count what they create) and alarms that `diff` says differ. */
export async function applyAlarmPlan(clients: AlarmClients, plan: AlarmPlan, diff: readonly AppliedItem[]): Promise<void> {
  const changed = new Set(diff.filter((d) => d.result !== 'unchanged').map((d) => `${d.kind}:${d.name}`));
  for (const input of plan.metricFilters) {
    if (!changed.has(`metricFilter:${input.filterName}`)) continue;
    try {
      await clients.logs.send(new PutMetricFilterCommand(input));
    } catch (err) {
      throw fromCloudWatchError(err, 'PutMetricFilter', `log group ${input.logGroupName}`);
    }
  }
  for (const input of plan.metricAlarms) {
    if (!changed.has(`metricAlarm:${input.AlarmName}`)) continue;
    try {
      await clients.cloudWatch.send(new PutMetricAlarmCommand(input));
    } catch (err) {
      throw fromCloudWatchError(err, 'PutMetricAlarm', input.AlarmName!);
    }
  }
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new CliError('USAGE', `${flag} must be a positive integer`);
  return Number(value);
}

/** A log group flag's value (`--cloudtrail-log-group`, `--service-log-group`): 1-512 of [.\-_/#A-Za-z0-9]. */
export function logGroupOption(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(value)) throw new CliError('USAGE', `${flag} must be a CloudWatch Logs group name (letters, digits and . - _ / #)`);
  return value;
}

function describePlan(plan: AlarmPlan): string {
  const alarms = plan.metricAlarms.map((a) => {
    const op = a.ComparisonOperator === 'GreaterThanThreshold' ? '>' : '>=';
    const metric = a.Namespace === 'AWS/Usage' ? `CallCount ${a.Dimensions!.find((d) => d.Name === 'Resource')!.Value} (AWS/Usage)` : `${a.MetricName} (${a.Namespace})`;
    return `  ${a.AlarmName}\n      ${metric}: Sum over ${a.Period} s ${op} ${a.Threshold}` + `${a.EvaluationPeriods! > 1 ? ` in ${a.DatapointsToAlarm ?? a.EvaluationPeriods} of ${a.EvaluationPeriods} periods` : ''}`;
  });
  const filters = plan.metricFilters.map((f) => `  ${f.filterName} on ${f.logGroupName}\n      ${f.filterPattern}`);
  return `Metric filters (CloudWatch Logs):\n${filters.join('\n')}\nAlarms (CloudWatch):\n${alarms.join('\n')}\n`;
}

/** `secrets alarms [--apply] [--json]`. */
export async function alarmsCommand(ctx: CommandContext): Promise<number> {
  const { deps, globals, options, catalog, out } = ctx;
  const instances = positiveInt(options.instances, '--instances', 2);
  const ttlMs = positiveInt(options['ttl-ms'], '--ttl-ms', 3_600_000);
  const cloudTrailLogGroup = logGroupOption(options['cloudtrail-log-group'], '--cloudtrail-log-group');
  const serviceLogGroup = logGroupOption(options['service-log-group'], '--service-log-group') ?? DEFAULT_SERVICE_LOG_GROUP;
  const actions = options['sns-topic'] ?? [];
  for (const arn of actions) {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(arn)) throw new CliError('USAGE', '--sns-topic must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)');
  }
  const plan = buildAlarmPlan(catalog, { instances, ttlMs, serviceLogGroup, actions, ...(cloudTrailLogGroup !== undefined && { cloudTrailLogGroup }) });
  const thresholds = unusualAccessThresholds(catalog, instances, ttlMs);
  const skipped = cloudTrailLogGroup === undefined ? 'Access errors: left out; pass --cloudtrail-log-group NAME (the log group your CloudTrail trail delivers to).\n' : '';

  if (!options.apply) {
    out(
      { metricFilters: plan.metricFilters, metricAlarms: plan.metricAlarms },
      `CloudWatch alarms for ${catalog.prefix} in ${ctx.region}: ${instances} instance(s), secrets TTL ${ttlMs / 1000} s, ` +
        `about ${thresholds.loadsPerHour} secret loads an hour across the fleet.\n${describePlan(plan)}${skipped}` +
        'Nothing applied: run with --apply to create or update them; --json prints the exact PutMetricFilter/PutMetricAlarm inputs.\n',
    );
    return EXIT_CODES.OK;
  }

  // The SDK's own endpoint settings (AWS_ENDPOINT_URL_CLOUDWATCH, ..._CLOUDWATCH_LOGS) apply;
  // --endpoint-url names the Secrets Manager endpoint only.
  const aws = { region: globals.aws.region, ...(globals.aws.profile !== undefined && { profile: globals.aws.profile }) };
  const clients = { cloudWatch: await deps.cloudWatch(aws), logs: await deps.cloudWatchLogs(aws) };
  const diff = await diffAlarmPlan(clients, plan);
  const changes = diff.filter((d) => d.result !== 'unchanged').length;
  if (changes > 0 && !options.yes && !(await deps.confirm(`Create or update ${changes} CloudWatch metric filter(s) and alarm(s) in ${ctx.region}?`))) {
    throw new CliError('CANCELLED', 'Cancelled; nothing changed');
  }
  await applyAlarmPlan(clients, plan, diff);
  // Alarms without actions still change state in the console, but nobody hears of it.
  const warnings = actions.length === 0 ? ['no --sns-topic: the alarms change state in CloudWatch but notify no one; pass --sns-topic ARN to be told'] : [];
  for (const w of warnings) deps.stderr(`warning: ${w}\n`);
  out(
    { applied: diff, warnings },
    `${diff.map((d) => `${d.result.padEnd(10)} ${d.kind === 'metricFilter' ? 'filter' : 'alarm '} ${d.name}`).join('\n')}\n${skipped}`,
  );
  return EXIT_CODES.OK;
}
