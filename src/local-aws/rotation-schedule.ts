import { Cron } from 'croner';
import { AwsServiceError, validationError } from './errors.js';

/**
 * RotationRules as RotateSecret takes them and DescribeSecret shows them, and the next rotation
 * date they give. Constraints from the service model (AutomaticallyRotateAfterDaysType 1..1000,
 * ScheduleExpressionType, DurationType) and the user guide ("Schedule expressions in Secrets
 * Manager rotation": `rate(N hours|days)`, at least every four hours; six-field `cron()` in UTC).
 */
export interface RotationRules {
  readonly automaticallyAfterDays?: number;
  readonly duration?: string;
  readonly scheduleExpression?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const SCHEDULE_PATTERN = /^[0-9A-Za-z()#?*\-/, ]+$/;
const RATE = /^rate\((\d{1,4}) (hours?|days?)\)$/;
const CRON = /^cron\((.+)\)$/;
const DURATION = /^(\d{1,2})h$/;

/** Checks a RotationRules request member; throws the error AWS answers. */
export function readRotationRules(value: unknown): RotationRules | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new AwsServiceError('SerializationException', 'Unexpected JSON type for RotationRules.');
  const o = value as Record<string, unknown>;
  const rules: { automaticallyAfterDays?: number; duration?: string; scheduleExpression?: string } = {};
  if (o.AutomaticallyAfterDays !== undefined && o.AutomaticallyAfterDays !== null) {
    const days = o.AutomaticallyAfterDays;
    if (typeof days !== 'number' || !Number.isInteger(days)) throw new AwsServiceError('SerializationException', 'Unexpected JSON type for RotationRules.AutomaticallyAfterDays.');
    if (days < 1) throw validationError('RotationRules.AutomaticallyAfterDays', 'Member must have value greater than or equal to 1');
    if (days > 1000) throw validationError('RotationRules.AutomaticallyAfterDays', 'Member must have value less than or equal to 1000');
    rules.automaticallyAfterDays = days;
  }
  if (o.ScheduleExpression !== undefined && o.ScheduleExpression !== null) {
    const expression = o.ScheduleExpression;
    if (typeof expression !== 'string') throw new AwsServiceError('SerializationException', 'Unexpected JSON type for RotationRules.ScheduleExpression.');
    if (expression.length < 1 || expression.length > 256 || !SCHEDULE_PATTERN.test(expression)) {
      throw validationError('RotationRules.ScheduleExpression', `Member must satisfy regular expression pattern: ${SCHEDULE_PATTERN.source}`);
    }
    rules.scheduleExpression = expression;
  }
  if (o.Duration !== undefined && o.Duration !== null) {
    const duration = o.Duration;
    if (typeof duration !== 'string') throw new AwsServiceError('SerializationException', 'Unexpected JSON type for RotationRules.Duration.');
    if (!/^[0-9h]{2,3}$/.test(duration)) throw validationError('RotationRules.Duration', 'Member must satisfy regular expression pattern: [0-9h]+');
    rules.duration = duration;
  }
  if (rules.automaticallyAfterDays !== undefined && rules.scheduleExpression !== undefined) {
    throw new AwsServiceError('InvalidParameterException', 'You can use either AutomaticallyAfterDays or ScheduleExpression, but not both.');
  }
  if (rules.automaticallyAfterDays === undefined && rules.scheduleExpression === undefined) {
    throw new AwsServiceError('InvalidParameterException', 'You must specify either AutomaticallyAfterDays or ScheduleExpression.');
  }
  if (rules.scheduleExpression !== undefined) checkSchedule(rules.scheduleExpression);
  if (rules.duration !== undefined) {
    const hours = Number(DURATION.exec(rules.duration)?.[1] ?? NaN);
    if (!Number.isInteger(hours) || hours < 1 || hours > 24) {
      throw new AwsServiceError('InvalidParameterException', 'The rotation window Duration must be a number of hours from 1h to 24h.');
    }
  }
  return rules;
}

function checkSchedule(expression: string): void {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const hours = rate[2]!.startsWith('hour');
    if (n < 1 || (hours && n < 4) || (!hours && n > 1000)) {
      throw new AwsServiceError('InvalidParameterException', 'The rotation schedule rate() must be from 4 hours to 1000 days.');
    }
    return;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    try {
      cronOf(cron[1]!);
    } catch {
      throw new AwsServiceError('InvalidParameterException', 'The rotation schedule cron() expression is not valid.');
    }
    return;
  }
  throw new AwsServiceError('InvalidParameterException', 'The rotation schedule must be a rate() or cron() expression.');
}

/** AWS's six fields (minutes hours day-of-month month day-of-week year, 1 = Sunday) in croner's terms. */
function cronOf(fields: string): Cron {
  const parts = fields.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error('a cron() expression has six fields');
  return new Cron(`0 ${parts.join(' ')}`, { timezone: 'UTC', paused: true, alternativeWeekdays: true });
}

/**
 * Start of the next rotation window after `fromMs` (the last rotation, or when rotation was set
 * up). AWS picks a random moment inside the window; the local endpoint reports its start, so
 * tests can move an injected clock onto it.
 */
export function nextRotationMs(rules: RotationRules, fromMs: number): number | undefined {
  if (rules.automaticallyAfterDays !== undefined) return startOfUtcDay(fromMs) + rules.automaticallyAfterDays * DAY_MS;
  const expression = rules.scheduleExpression;
  if (expression === undefined) return undefined;
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    return rate[2]!.startsWith('hour') ? fromMs + n * HOUR_MS : startOfUtcDay(fromMs) + n * DAY_MS;
  }
  const cron = CRON.exec(expression);
  return cron ? (cronOf(cron[1]!).nextRun(new Date(fromMs))?.getTime() ?? undefined) : undefined;
}

function startOfUtcDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

/** The wire shape of RotationRules. */
export function rotationRulesJson(rules: RotationRules): Record<string, unknown> {
  return {
    ...(rules.automaticallyAfterDays === undefined ? {} : { AutomaticallyAfterDays: rules.automaticallyAfterDays }),
    ...(rules.duration === undefined ? {} : { Duration: rules.duration }),
    ...(rules.scheduleExpression === undefined ? {} : { ScheduleExpression: rules.scheduleExpression }),
  };
}
