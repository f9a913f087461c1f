import { parseFaults, type Faults } from './faults.js';

/**
 * The HTTP control plane, under a path the AWS SDK never calls. It lets another process (a
 * benchmark, the one-machine demo) steer faults and read call counts. Control calls are not
 * counted, need no Authorization and bypass faults.
 *
 *   GET    /_local/health        -> 200 {"status":"ok"}
 *   GET    /_local/counts        -> 200 {"GetSecretValue": 3, ...}
 *   POST   /_local/counts/reset  -> 204
 *   GET    /_local/faults        -> 200 faults in force
 *   PUT    /_local/faults        -> 200 faults in force, after merging the JSON body (partial faults)
 *   DELETE /_local/faults        -> 204, no faults
 *   POST   /_local/reset         -> 204, every secret removed (counts and faults untouched)
 */
export const CONTROL_PATH_PREFIX = '/_local/';

export interface ControlTarget {
  setFaults(faults: Partial<Faults>): void;
  clearFaults(): void;
  faults(): Readonly<Faults>;
  counts(): Record<string, number>;
  resetCounts(): void;
  resetStore(): void;
}

export interface ControlResponse {
  readonly status: number;
  readonly body?: unknown;
}

type Route = (rawBody: string, target: ControlTarget) => ControlResponse;

const ROUTES: Readonly<Record<string, Readonly<Record<string, Route>>>> = {
  '/_local/health': {
    GET: () => ({ status: 200, body: { status: 'ok' } }),
  },
  '/_local/counts': {
    GET: (_body, target) => ({ status: 200, body: target.counts() }),
  },
  '/_local/counts/reset': {
    POST: (_body, target) => {
      target.resetCounts();
      return { status: 204 };
    },
  },
  '/_local/faults': {
    GET: (_body, target) => ({ status: 200, body: target.faults() }),
    PUT: (rawBody, target) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody === '' ? '{}' : rawBody);
      } catch {
        return { status: 400, body: { message: 'The body must be a JSON object of faults.' } };
      }
      try {
        target.setFaults(parseFaults(parsed));
      } catch (error) {
        return { status: 400, body: { message: error instanceof TypeError ? error.message : 'Invalid faults.' } };
      }
      return { status: 200, body: target.faults() };
    },
    DELETE: (_body, target) => {
      target.clearFaults();
      return { status: 204 };
    },
  },
  '/_local/reset': {
    POST: (_body, target) => {
      target.resetStore();
      return { status: 204 };
    },
  },
};

export function handleControlRequest(method: string, path: string, rawBody: string, target: ControlTarget): ControlResponse {
  const routes = ROUTES[path];
  if (!routes) return { status: 404, body: { message: `No control route ${path}.` } };
  const route = routes[method];
  if (!route) return { status: 405, body: { message: `${method} is not allowed on ${path}; use ${Object.keys(routes).join(', ')}.` } };
  return route(rawBody, target);
}
