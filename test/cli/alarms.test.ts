import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { buildAlarmPlan, DEFAULT_SERVICE_LOG_GROUP } from '../../src/cli/alarm-plan.js';
import { run } from '../../src/cli/run.js';
import { TEST_CREDENTIALS, useLocalAws } from '../support/local-aws.js';
import { startCloudWatchStub, type CloudWatchStub } from './cloudwatch-stub.js';
import { cliDeps } from './support.js';

const TRAIL = 'CloudTrail/management';
const BASE = ['alarms', '--cloudtrail-log-group', TRAIL];
let stub: CloudWatchStub;

const lsm = useLocalAws({ each: true });
beforeEach(async () => {
  stub = await startCloudWatchStub({ logGroups: [TRAIL, DEFAULT_SERVICE_LOG_GROUP] });
});
afterEach(async () => {
  await stub.close();
});

/** CLI deps whose CloudWatch clients are the real SDK pointed at the stub. */
async function deps(overrides: Parameters<typeof cliDeps>[1] = {}) {
  const config = { endpoint: stub.url, credentials: TEST_CREDENTIALS, maxAttempts: 1 };
  return cliDeps(lsm, {
    cloudWatch: async (o) => new CloudWatchClient({ ...config, region: o.region }),
    cloudWatchLogs: async (o) => new CloudWatchLogsClient({ ...config, region: o.region }),
    ...overrides,
  });
}

const puts = () => stub.calls.filter((c) => c.operation.startsWith('Put')).map((c) => c.operation);

describe('secrets alarms', () => {
  it('prints the exact PutMetricFilter and PutMetricAlarm inputs with --json, calling nothing', async () => {
    const c = await deps();

    const code = await run([...BASE, '--instances', '4', '--json'], c.deps);

    expect(code).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual(
      JSON.parse(JSON.stringify(buildAlarmPlan(whatsappSaasCatalog(), { instances: 4, ttlMs: 3_600_000, cloudTrailLogGroup: TRAIL, serviceLogGroup: DEFAULT_SERVICE_LOG_GROUP, actions: [] }))),
    );
    expect(c.stderr()).toBe('');
    expect(stub.calls).toEqual([]);
  });

  it('describes the plan for people, and says what was left out and that nothing was applied', async () => {
    const c = await deps();

    expect(await run(['alarms'], c.deps)).toBe(0);

    expect(c.stdout()).toContain('whatsapp-saas-mvp-secrets-unusual-access-GetSecretValue');
    expect(c.stdout()).toContain('CallCount BatchGetSecretValue (AWS/Usage): Sum over 3600 s > 18');
    expect(c.stdout()).toContain('{ $.event = "secrets.refresh_failed" }');
    expect(c.stdout()).toContain('Access errors: left out; pass --cloudtrail-log-group NAME');
    expect(c.stdout()).toContain('Nothing applied');
  });

  it('creates every filter and alarm with --apply, sending exactly the printed inputs', async () => {
    const c = await deps();
    const plan = buildAlarmPlan(whatsappSaasCatalog(), { instances: 2, ttlMs: 3_600_000, cloudTrailLogGroup: TRAIL, serviceLogGroup: DEFAULT_SERVICE_LOG_GROUP, actions: [] });

    const code = await run([...BASE, '--apply', '--yes', '--json'], c.deps);

    expect(code).toBe(0);
    expect((JSON.parse(c.stdout()) as { applied: { result: string }[] }).applied.map((a) => a.result)).toEqual(Array(8).fill('created'));
    expect(stub.calls.filter((x) => x.operation === 'PutMetricFilter').map((x) => x.input)).toEqual(JSON.parse(JSON.stringify(plan.metricFilters)));
    expect(stub.calls.filter((x) => x.operation === 'PutMetricAlarm').map((x) => x.input)).toEqual(JSON.parse(JSON.stringify(plan.metricAlarms)));
    expect(new Set(stub.calls.map((x) => `${x.service}:${x.signedFor}`))).toEqual(new Set(['monitoring:monitoring', 'logs:logs']));
  });

  it('changes nothing on a second run, and puts only what differs after a flag or a console edit changed', async () => {
    const c = await deps();
    await run([...BASE, '--apply', '--yes'], c.deps);
    stub.calls.length = 0;
    c.clear();

    expect(await run([...BASE, '--apply', '--yes'], c.deps)).toBe(0);
    expect(puts()).toEqual([]);
    expect(c.stdout().split('\n').filter((l) => l.startsWith('unchanged'))).toHaveLength(8);

    stub.filters.get(`${DEFAULT_SERVICE_LOG_GROUP}\u0000whatsapp-saas-mvp-secrets-refresh-failures`)!.filterPattern = '{ $.level = 50 }';
    c.clear();
    expect(await run([...BASE, '--apply', '--yes', '--instances', '6', '--json'], c.deps)).toBe(0);
    const applied = (JSON.parse(c.stdout()) as { applied: { name: string; result: string }[] }).applied.filter((a) => a.result !== 'unchanged');
    expect(applied).toEqual([
      { kind: 'metricFilter', name: 'whatsapp-saas-mvp-secrets-refresh-failures', result: 'updated' },
      { kind: 'metricAlarm', name: 'whatsapp-saas-mvp-secrets-unusual-access-GetSecretValue', result: 'updated' },
      { kind: 'metricAlarm', name: 'whatsapp-saas-mvp-secrets-unusual-access-BatchGetSecretValue', result: 'updated' },
    ]);
    expect(puts()).toEqual(['PutMetricFilter', 'PutMetricAlarm', 'PutMetricAlarm']);
    expect(stub.alarms.get('whatsapp-saas-mvp-secrets-unusual-access-BatchGetSecretValue')!.Threshold).toBe(42);
  });

  it('asks before changing anything, changes nothing when refused, and does not ask when all is in place', async () => {
    const questions: string[] = [];
    const refuse = await deps({ confirm: async (q) => (questions.push(q), false) });

    expect(await run([...BASE, '--apply'], refuse.deps)).toBe(130);
    expect(questions).toEqual(['Create or update 8 CloudWatch metric filter(s) and alarm(s) in us-east-1?']);
    expect(puts()).toEqual([]);

    await run([...BASE, '--apply', '--yes'], (await deps()).deps);
    expect(await run([...BASE, '--apply'], refuse.deps)).toBe(0);
    expect(questions).toHaveLength(1);
  });

  it('fails naming the log group and the flag when a log group does not exist, before putting anything', async () => {
    const c = await deps();

    const code = await run(['alarms', '--cloudtrail-log-group', 'no-such-trail', '--apply', '--yes'], c.deps);

    expect(code).toBe(1);
    expect(c.stderr()).toContain('DescribeMetricFilters for log group no-such-trail failed: not found (ResourceNotFoundException)');
    expect(c.stderr()).toContain('--cloudtrail-log-group');
    expect(puts()).toEqual([]);
  });

  it('notifies SNS topics given with --sns-topic', async () => {
    const c = await deps();
    const topic = 'arn:aws:sns:us-east-1:123456789012:secrets-alarms';

    await run([...BASE, '--apply', '--yes', '--sns-topic', topic], c.deps);

    expect([...stub.alarms.values()].map((a) => a.AlarmActions)).toEqual(Array(5).fill([topic]));
  });

  it('warns on --apply without --sns-topic that the alarms will notify no one, and not with one', async () => {
    const c = await deps();

    expect(await run([...BASE, '--apply', '--yes', '--json'], c.deps)).toBe(0);
    const silent = c.stderr();
    const json = JSON.parse(c.stdout()) as { warnings: string[] };
    c.clear();
    await run([...BASE, '--apply', '--yes', '--sns-topic', 'arn:aws:sns:us-east-1:123456789012:oncall'], c.deps);

    expect(silent).toMatch(/^warning: no --sns-topic: .*notify no one/m);
    expect(json.warnings).toEqual([expect.stringContaining('no --sns-topic')]);
    expect(c.stderr()).not.toContain('warning');
  });

  it('agrees with the README about endpoints: --endpoint-url is Secrets Manager, alarms use the SDK\'s CloudWatch endpoint settings', async () => {
    const readme = await readFile(resolve('README.md'), 'utf8');
    const c = await deps();
    await run(['alarms', '--help'], c.deps);

    for (const text of [readme, c.stdout()]) {
      expect(text).toContain('AWS_ENDPOINT_URL_CLOUDWATCH');
      expect(text).toContain('AWS_ENDPOINT_URL_CLOUDWATCH_LOGS');
    }
    expect(readme).toMatch(/`--endpoint-url`[^.]*Secrets Manager[^.]*; `alarms --apply`/);
  });

  it.each([
    [['--instances', '0'], '--instances must be a positive integer'],
    [['--instances', 'many'], '--instances must be a positive integer'],
    [['--ttl-ms', '1h'], '--ttl-ms must be a positive integer'],
    [['--sns-topic', 'ops-team'], '--sns-topic must be an SNS topic ARN'],
    [['--service-log-group', 'bad group!'], '--service-log-group must be a CloudWatch Logs group name'],
  ])('refuses %j as a usage error', async (args, message) => {
    const c = await deps();

    expect(await run(['alarms', ...args], c.deps)).toBe(2);
    expect(c.stderr()).toContain(message);
  });
});

describe('the secrets binary', () => {
  it('applies the alarms through the SDK endpoints set in the environment', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'secrets-alarms-'));
    const tsx = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_CLOUDWATCH: stub.url,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: stub.url,
    };

    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', tsx, resolve('src/cli/main.ts'), ...BASE, '--apply', '--yes'], { cwd, env });

    expect(stdout.split('\n').filter((l) => l.startsWith('created'))).toHaveLength(8);
    expect(stderr).toMatch(/^warning: no --sns-topic: [^\n]*\n$/);
    expect(stub.alarms.size).toBe(5);
    expect(stub.filters.size).toBe(3);
  }, 60_000);
});
