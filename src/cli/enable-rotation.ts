import { DescribeSecretCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError, type Catalog } from '../engine/index.js';
import { ROTATION_TARGETS, scheduleDaysOf, type RotationTarget } from '../rotation/index.js';
import { CliError, fromAwsError } from './errors.js';

export interface RotationSchedule {
  readonly name: string;
  readonly secretId: string;
  readonly everyDays: number;
  /** `enabled` now, `updated` (other function or period before), `unchanged`, or `missing` (no such secret yet). */
  readonly action: 'enabled' | 'updated' | 'unchanged' | 'missing';
}

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/;

/** `--enable-rotation ARN`: a Lambda function ARN (optionally with a version or alias), or a usage error. */
export function rotationFunctionArn(value: string): string {
  if (!LAMBDA_ARN.test(value)) throw new CliError('USAGE', '--enable-rotation takes the rotation function\'s Lambda ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)');
  return value;
}

/**
 * `secrets setup --enable-rotation ARN`: Secrets Manager's own schedule for every secret a
 * rotation module handles and that has a period (the catalog's `rotation.everyDays`, else the
 * kind's default), through RotateSecret with `RotateImmediately: false`, so Secrets Manager only
 * tests the function now (its testSecret step) and rotates when the period has passed. A secret
 * already scheduled the same way is left alone, so a re-run changes nothing.
 */
export async function enableRotation(
  client: SecretsManagerClient,
  catalog: Catalog,
  lambdaArn: string,
  targets: readonly RotationTarget<unknown>[] = ROTATION_TARGETS,
): Promise<RotationSchedule[]> {
  const schedules: RotationSchedule[] = [];
  for (const target of targets) {
    const entry = catalog.entry(target.module.secretName);
    const everyDays = scheduleDaysOf(target, catalog);
    if (entry === undefined || everyDays === undefined) continue;
    const row = { name: entry.name, secretId: entry.awsId, everyDays };
    try {
      const d = await client.send(new DescribeSecretCommand({ SecretId: entry.awsId }));
      if (d.RotationEnabled === true && d.RotationLambdaARN === lambdaArn && d.RotationRules?.AutomaticallyAfterDays === everyDays) {
        schedules.push({ ...row, action: 'unchanged' });
        continue;
      }
      await client.send(
        new RotateSecretCommand({ SecretId: entry.awsId, RotationLambdaARN: lambdaArn, RotationRules: { AutomaticallyAfterDays: everyDays }, RotateImmediately: false }),
      );
      schedules.push({ ...row, action: d.RotationEnabled === true ? 'updated' : 'enabled' });
    } catch (err) {
      if (classifyAwsError(err).code === 'ResourceNotFoundException') schedules.push({ ...row, action: 'missing' });
      else throw fromAwsError(err, entry.awsId);
    }
  }
  return schedules;
}

/** One line per schedule, for setup's summary. */
export function scheduleLines(schedules: readonly RotationSchedule[], lambdaArn: string): string {
  return schedules.map((s) => `${s.name.padEnd(26)} rotation every ${s.everyDays} days: ${s.action}  (${lambdaArn})\n`).join('');
}
