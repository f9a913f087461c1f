import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The smallest faithful stand-in for the two endpoints `secrets alarms --apply` talks to, as the
 * pinned SDK speaks them (checked against what it sends):
 * - CloudWatch: AWS JSON 1.0, `X-Amz-Target: GraniteServiceVersion20100801.<Op>`, query-compatible
 *   errors (`x-amzn-query-error: <Code>;Sender`), SigV4 service `monitoring`;
 * - CloudWatch Logs: AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`, SigV4 service `logs`.
 * Operations: PutMetricAlarm, DescribeAlarms, PutMetricFilter, DescribeMetricFilters, with AWS's
 * validation of what this tool can get wrong (required fields, the evaluation-range limit, a
 * missing log group). Point both clients at `url`.
 */
export interface CloudWatchStub {
  readonly url: string;
  /** Every call: service, operation, the SigV4 credential scope's service, and the JSON input. */
  readonly calls: { service: 'monitoring' | 'logs'; operation: string; signedFor: string; input: Record<string, unknown> }[];
  readonly alarms: Map<string, Record<string, unknown>>;
  /** By `${logGroupName}\u0000${filterName}`. */
  readonly filters: Map<string, Record<string, unknown>>;
  readonly logGroups: Set<string>;
  close(): Promise<void>;
}

class StubError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const TARGETS = { GraniteServiceVersion20100801: 'monitoring', Logs_20140328: 'logs' } as const;

export async function startCloudWatchStub(options: { logGroups?: readonly string[] } = {}): Promise<CloudWatchStub> {
  const calls: CloudWatchStub['calls'] = [];
  const alarms = new Map<string, Record<string, unknown>>();
  const filters = new Map<string, Record<string, unknown>>();
  const logGroups = new Set(options.logGroups ?? []);
  const nowS = () => Date.now() / 1000;

  const requireFields = (input: Record<string, unknown>, fields: string[]) => {
    for (const f of fields) if (input[f] === undefined) throw new StubError('InvalidParameterException', 'MissingParameter', `${f} is required`);
  };

  const monitoring: Record<string, (input: Record<string, unknown>) => unknown> = {
    PutMetricAlarm(input) {
      requireFields(input, ['AlarmName', 'EvaluationPeriods', 'ComparisonOperator']);
      const period = Number(input.Period);
      const range = period * Number(input.EvaluationPeriods);
      // PutMetricAlarm's documented limit: 7 days, or 1 day for periods under an hour.
      if (range > (period < 3600 ? 86_400 : 604_800)) {
        throw new StubError('com.amazonaws.cloudwatch#InvalidParameterCombinationException', 'InvalidParameterCombination', 'evaluation range too long');
      }
      const name = String(input.AlarmName);
      alarms.set(name, {
        OKActions: [],
        AlarmActions: [],
        InsufficientDataActions: [],
        ActionsEnabled: true,
        Dimensions: [],
        ...input,
        AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
        AlarmConfigurationUpdatedTimestamp: nowS(),
        StateValue: alarms.get(name)?.StateValue ?? 'INSUFFICIENT_DATA',
        StateUpdatedTimestamp: nowS(),
      });
      return {};
    },
    DescribeAlarms(input) {
      const names = input.AlarmNames as string[] | undefined;
      const metricAlarms = [...alarms.values()].filter((a) => names === undefined || names.includes(String(a.AlarmName)));
      return { MetricAlarms: metricAlarms, CompositeAlarms: [] };
    },
  };

  const logs: Record<string, (input: Record<string, unknown>) => unknown> = {
    PutMetricFilter(input) {
      requireFields(input, ['logGroupName', 'filterName', 'filterPattern', 'metricTransformations']);
      const group = String(input.logGroupName);
      if (!logGroups.has(group)) throw new StubError('ResourceNotFoundException', 'ResourceNotFoundException', 'The specified log group does not exist.');
      filters.set(`${group}\u0000${String(input.filterName)}`, { ...input, creationTime: Date.now() });
      return {};
    },
    DescribeMetricFilters(input) {
      const group = input.logGroupName as string | undefined;
      if (group !== undefined && !logGroups.has(group)) throw new StubError('ResourceNotFoundException', 'ResourceNotFoundException', 'The specified log group does not exist.');
      const prefix = String(input.filterNamePrefix ?? '');
      const metricFilters = [...filters.values()].filter((f) => (group === undefined || f.logGroupName === group) && String(f.filterName).startsWith(prefix));
      return { metricFilters };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const [target = '', operation = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
    const service = TARGETS[target as keyof typeof TARGETS];
    const contentType = service === 'monitoring' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    const signedFor = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    try {
      if (service === undefined || req.method !== 'POST') throw new StubError('UnknownOperationException', 'InvalidAction', 'unknown target', 400);
      if (req.headers['content-type'] !== contentType) throw new StubError('SerializationException', 'InvalidQueryParameter', `expected ${contentType}`);
      if (signedFor !== service) throw new StubError('InvalidSignatureException', 'InvalidClientTokenId', `signed for ${signedFor || 'nothing'}, not ${service}`, 403);
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      calls.push({ service, operation, signedFor, input });
      const op = (service === 'monitoring' ? monitoring : logs)[operation];
      if (op === undefined) throw new StubError('UnknownOperationException', 'InvalidAction', `${operation} is not in this stub`);
      const output = op(input);
      res.writeHead(200, { 'content-type': contentType });
      res.end(JSON.stringify(output));
    } catch (err) {
      const e = err instanceof StubError ? err : new StubError('InternalFailure', 'InternalFailure', 'stub failure', 500);
      res.writeHead(e.status, { 'content-type': contentType, ...(service === 'monitoring' && { 'x-amzn-query-error': `${e.queryCode};Sender` }) });
      res.end(JSON.stringify({ __type: e.type, message: e.message }));
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    alarms,
    filters,
    logGroups,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
