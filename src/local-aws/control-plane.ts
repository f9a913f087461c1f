import { parseFaults, type Faults } from './faults.js';
import { REGION_PATTERN } from './regions.js';
import type { RotationFunction } from './rotation-functions.js';
import type { RotationView } from './rotation-runner.js';

/**
 * The HTTP control plane, under a path the AWS SDK never calls. It lets another process (a
 * benchmark, the one-machine demo) steer faults and read call counts. Control calls are not
 * counted, need no Authorization and bypass faults.
 *
 *   GET    /_local/health        -> 200 {"status":"ok"}
 *   GET    /_local/counts        -> 200 {"GetSecretValue": 3, ...} (`?region=us-west-2`: that region's calls)
 *   POST   /_local/counts/reset  -> 204
 *   GET    /_local/faults        -> 200 faults in force
 *   PUT    /_local/faults        -> 200 faults in force, after merging the JSON body (partial faults)
 *   DELETE /_local/faults        -> 204, no faults
 *   (the three faults routes take `?region=us-west-2`: the faults scoped to that region; without
 *   it, the faults of every region)
 *   POST   /_local/reset         -> 204, every secret removed (counts and faults untouched)
 *   GET    /_local/rotations     -> 200 rotations started, with each step's result
 *   POST   /_local/rotations/run-due   -> 200 rotations started now (NextRotationDate has come)
 *   GET    /_local/rotation-functions  -> 200 registered rotation functions
 *   PUT    /_local/rotation-functions  -> 200 after registering {"arn": ..., "url": "http://127.0.0.1:..."}
 *   DELETE /_local/rotation-functions  -> 204 after removing {"arn": ...}
 */
export const CONTROL_PATH_PREFIX = '/_local/';

export interface ControlTarget {
  setFaults(faults: Partial<Faults>, region?: string): void;
  clearFaults(region?: string): void;
  faults(region?: string): Readonly<Faults>;
  counts(region?: string): Record<string, number>;
  resetCounts(): void;
  resetStore(): void;
  registerRotationFunction(arn: string, fn: RotationFunction): void;
  unregisterRotationFunction(arn: string): void;
  rotationFunctions(): Array<{ arn: string; kind: 'in-process' | 'http'; url?: string }>;
  rotations(): RotationView[];
  runDueRotations(): RotationView[];
}

export interface ControlResponse {
  readonly status: number;
  readonly body?: unknown;
}

type Route = (rawBody: string, target: ControlTarget, region: string | undefined) => ControlResponse;

const ROUTES: Readonly<Record<string, Readonly<Record<string, Route>>>> = {
  '/_local/health': {
    GET: () => ({ status: 200, body: { status: 'ok' } }),
  },
  '/_local/counts': {
    GET: (_body, target, region) => ({ status: 200, body: target.counts(region) }),
  },
  '/_local/counts/reset': {
    POST: (_body, target) => {
      target.resetCounts();
      return { status: 204 };
    },
  },
  '/_local/faults': {
    GET: (_body, target, region) => ({ status: 200, body: target.faults(region) }),
    PUT: (rawBody, target, region) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody === '' ? '{}' : rawBody);
      } catch {
        return { status: 400, body: { message: 'The body must be a JSON object of faults.' } };
      }
      try {
        target.setFaults(parseFaults(parsed), region);
      } catch (error) {
        return { status: 400, body: { message: error instanceof TypeError ? error.message : 'Invalid faults.' } };
      }
      return { status: 200, body: target.faults(region) };
    },
    DELETE: (_body, target, region) => {
      target.clearFaults(region);
      return { status: 204 };
    },
  },
  '/_local/reset': {
    POST: (_body, target) => {
      target.resetStore();
      return { status: 204 };
    },
  },
  '/_local/rotations': {
    GET: (_body, target) => ({ status: 200, body: target.rotations() }),
  },
  '/_local/rotations/run-due': {
    POST: (_body, target) => ({ status: 200, body: target.runDueRotations() }),
  },
  '/_local/rotation-functions': {
    GET: (_body, target) => ({ status: 200, body: target.rotationFunctions() }),
    PUT: (rawBody, target) => {
      const input = parseObject(rawBody);
      if (input === undefined || typeof input.arn !== 'string' || typeof input.url !== 'string') {
        return { status: 400, body: { message: 'The body must be {"arn": "<Lambda ARN>", "url": "http://127.0.0.1:<port>/..."}.' } };
      }
      try {
        target.registerRotationFunction(input.arn, { url: input.url });
      } catch (error) {
        return { status: 400, body: { message: error instanceof TypeError ? error.message : 'Invalid rotation function.' } };
      }
      return { status: 200, body: target.rotationFunctions() };
    },
    DELETE: (rawBody, target) => {
      const input = parseObject(rawBody);
      if (input === undefined || typeof input.arn !== 'string') return { status: 400, body: { message: 'The body must be {"arn": "<Lambda ARN>"}.' } };
      target.unregisterRotationFunction(input.arn);
      return { status: 204 };
    },
  },
};

function parseObject(rawBody: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(rawBody === '' ? '{}' : rawBody);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function handleControlRequest(
  method: string,
  path: string,
  rawBody: string,
  target: ControlTarget,
  query: URLSearchParams = new URLSearchParams(),
): ControlResponse {
  const routes = ROUTES[path];
  if (!routes) return { status: 404, body: { message: `No control route ${path}.` } };
  const route = routes[method];
  if (!route) return { status: 405, body: { message: `${method} is not allowed on ${path}; use ${Object.keys(routes).join(', ')}.` } };
  const region = query.get('region') ?? undefined;
  if (region !== undefined && !REGION_PATTERN.test(region)) {
    return { status: 400, body: { message: 'region must be a region name such as us-east-1.' } };
  }
  return route(rawBody, target, region);
}
