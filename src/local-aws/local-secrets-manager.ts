import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallCounts } from './call-counts.js';
import { CONTROL_PATH_PREFIX, handleControlRequest, type ControlTarget } from './control-plane.js';
import { AwsServiceError, INTERNAL_ERROR_MESSAGE, httpStatusFor, type AwsErrorCode } from './errors.js';
import { RateWindow, RegionalFaults, type Faults } from './faults.js';
import { LOCAL_ACCOUNT_ID, LOCAL_CALLER_ARN } from './local-identity.js';
import { isOperationName, runOperation } from './operations.js';
import { RotationFunctions, type RotationFunction } from './rotation-functions.js';
import { RotationRunner, type RotationView } from './rotation-runner.js';
import { Regions } from './regions.js';
import type { Clock } from './store.js';
import { runStsAction, stsAction, stsErrorXml } from './sts.js';

export type { Faults } from './faults.js';
export type { RotationEvent, RotationFunction, RotationHandler, RotationStep } from './rotation-functions.js';
export type { RotationView } from './rotation-runner.js';

/**
 * A local, wire-compatible AWS Secrets Manager endpoint (JSON 1.1 over HTTP) for tests,
 * benchmarks and the one-machine demo; never for production. The real AWS SDK v3 and the `aws`
 * CLI talk to it unchanged. SigV4 signatures are not verified, but a request without any
 * Authorization is refused as AWS refuses it. It logs nothing.
 */
export interface LocalSecretsManagerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; anything but a loopback address is refused. */
  host?: string;
  /**
   * The default region: the one a request without a SigV4 credential scope is served by, and
   * where RotateSecret's scheduled rotations run. Default us-east-1. Every other region exists
   * too: a request's region is the one in its credential scope.
   */
  region?: string;
  /** For CreatedDate, LastChangedDate, deletion windows...; default the system clock. */
  clock?: { now(): number };
  /** Rotation functions RotateSecret can call, by Lambda ARN (more with registerRotationFunction). */
  rotationFunctions?: Readonly<Record<string, RotationFunction>>;
  /** A rotation step that runs longer fails, as a Lambda past its timeout does. Default 30 s. */
  rotationStepTimeoutMs?: number;
}

export interface LocalSecretsManager {
  /** `http://127.0.0.1:<port>`: the SDK's `endpoint`, the CLI's `--endpoint-url`. */
  readonly url: string;
  readonly port: number;
  /** Merges partial faults into the faults in force in every region, or in `region` alone. */
  setFaults(f: Partial<Faults>, region?: string): void;
  /** No faults anywhere, or none scoped to `region` (faults of every region stay). */
  clearFaults(region?: string): void;
  /** The faults in force in every region, or those scoped to `region`. */
  faults(region?: string): Readonly<Faults>;
  /** AWS calls received per operation name, in every region or in `region` (control-plane calls are not counted). */
  counts(region?: string): Record<string, number>;
  resetCounts(): void;
  /** Removes every secret, and the rotation history with them. */
  resetStore(): void;
  /**
   * Makes `arn` a rotation function RotateSecret can call: an async function, or `{ url }` of a
   * loopback HTTP endpoint that takes the event as a JSON POST (Lambda's emulator does).
   */
  registerRotationFunction(arn: string, fn: RotationFunction): void;
  unregisterRotationFunction(arn: string): void;
  /** Resolves once every change has reached the replicas (an injected replication lag has run out). */
  whenReplicated(): Promise<void>;
  /** Delivers every change held back by `replicationLagMs` now. */
  flushReplication(): void;
  /** Rotations started by RotateSecret or runDueRotations, oldest first, with each step's result. */
  rotations(): RotationView[];
  /** Resolves once no rotation is running. */
  whenRotationsIdle(): Promise<void>;
  /** Starts the scheduled rotation of every secret whose NextRotationDate has come (by the injected clock). */
  runDueRotations(): RotationView[];
  /** Stops listening and destroys every connection, hung requests included. Idempotent. */
  close(): Promise<void>;
}

/** Request bodies above this are refused with 413 (a SecretString is at most 64 KiB). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const SECRETS_MANAGER_TARGET_PREFIX = 'secretsmanager.';

export async function startLocalSecretsManager(opts: LocalSecretsManagerOptions = {}): Promise<LocalSecretsManager> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host)) {
    throw new RangeError(`The local Secrets Manager listens on loopback only; refusing host ${host}.`);
  }
  const region = opts.region ?? 'us-east-1';
  const clock: Clock = opts.clock ?? { now: () => Date.now() };
  const faults = new RegionalFaults();
  const regions = new Regions({ defaultRegion: region, accountId: LOCAL_ACCOUNT_ID, clock, lagMsFor: (r) => faults.effective(r).replicationLagMs });
  const store = regions.store(region);
  const counts = new CallCounts();
  const rates = new Map<string, RateWindow>();
  const rateFor = (r: string): RateWindow => {
    let window = rates.get(r);
    if (!window) {
      window = new RateWindow();
      rates.set(r, window);
    }
    return window;
  };
  const rotationFunctions = new RotationFunctions();
  for (const [arn, fn] of Object.entries(opts.rotationFunctions ?? {})) rotationFunctions.register(arn, fn);
  const rotations = new RotationRunner({
    store,
    functions: rotationFunctions,
    clock,
    ...(opts.rotationStepTimeoutMs === undefined ? {} : { stepTimeoutMs: opts.rotationStepTimeoutMs }),
  });
  const pendingTimers = new Set<NodeJS.Timeout>();
  const hungResponses = new Set<ServerResponse>();

  const control: ControlTarget = {
    setFaults: (partial, r) => faults.settings(r).set(partial),
    clearFaults: (r) => faults.clear(r),
    faults: (r) => faults.settings(r).get(),
    counts: (r) => counts.snapshot(r),
    resetCounts: () => counts.reset(),
    resetStore: () => {
      rotations.reset();
      regions.clear();
    },
    registerRotationFunction: (arn, fn) => rotationFunctions.register(arn, fn),
    unregisterRotationFunction: (arn) => void rotationFunctions.unregister(arn),
    rotationFunctions: () => rotationFunctions.list(),
    rotations: () => rotations.history(),
    runDueRotations: () => rotations.runDue(),
  };

  const server = createServer((req, res) => {
    handleRequest(req, res).catch(() => {
      if (!res.headersSent) sendJsonError(res, randomUUID(), 'InternalServiceError', INTERNAL_ERROR_MESSAGE);
      else res.destroy();
    });
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://local');
    let body: string;
    try {
      body = (await readBody(req, MAX_REQUEST_BODY_BYTES)).toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        // Drain the rest so the client reads the 413 instead of a reset connection, then close.
        req.resume();
        res.setHeader('Connection', 'close');
        sendJsonError(res, requestId, 'RequestEntityTooLargeException', `Request bodies are limited to ${MAX_REQUEST_BODY_BYTES} bytes.`);
      }
      return;
    }

    if (url.pathname.startsWith(CONTROL_PATH_PREFIX)) {
      const answer = handleControlRequest(req.method ?? 'GET', url.pathname, body, control, url.searchParams);
      sendControl(res, answer.status, answer.body);
      return;
    }

    const target = headerValue(req, 'x-amz-target');
    const sts = target === undefined ? stsAction(headerValue(req, 'content-type'), body) : undefined;
    const fail = (code: AwsErrorCode, message: string): void => {
      if (sts !== undefined) sendStsError(res, requestId, code === 'MissingAuthenticationTokenException' ? 'MissingAuthenticationToken' : code, message);
      else sendJsonError(res, requestId, code, message);
    };

    if (req.method !== 'POST' || url.pathname !== '/') {
      fail('UnknownOperationException', 'The local Secrets Manager answers POST / only.');
      return;
    }
    // SigV4 is not verified, but an unsigned request is refused as AWS refuses it.
    if (headerValue(req, 'authorization') === undefined && !url.searchParams.has('X-Amz-Signature')) {
      fail('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
      return;
    }
    const operation = sts ?? (target?.startsWith(SECRETS_MANAGER_TARGET_PREFIX) ? target.slice(SECRETS_MANAGER_TARGET_PREFIX.length) : undefined);
    if (operation === undefined) {
      fail('UnknownOperationException', 'The request names no Secrets Manager operation.');
      return;
    }

    const requestRegion = signingRegion(req, url) ?? region;
    counts.record(operation, requestRegion);
    const active = faults.effective(requestRegion);
    if (active.hang) {
      hungResponses.add(res);
      res.on('close', () => hungResponses.delete(res));
      return;
    }

    let respond: () => void;
    try {
      assertNoInjectedFailure(active, operation);
      if (!rateFor(requestRegion).admit(operation, clock.now(), active.rateLimitPerSecond)) throw new AwsServiceError('ThrottlingException', 'Rate exceeded');
      if (sts !== undefined) {
        const xml = runStsAction(sts, requestId);
        respond = () => sendXml(res, requestId, 200, xml);
      } else {
        if (!isOperationName(operation)) {
          throw new AwsServiceError('UnknownOperationException', `The local Secrets Manager does not implement ${operation}.`);
        }
        let output: Record<string, unknown>;
        try {
          output = runOperation(operation, parseJsonObject(body), {
            store: regions.store(requestRegion),
            regions,
            faults: active,
            region: requestRegion,
            now: () => clock.now(),
            rotations,
            rotationFunctions,
          });
        } finally {
          // Whatever the call changed in a primary secret goes on to its replicas.
          regions.syncAll();
        }
        respond = () => sendJson(res, requestId, 200, output);
      }
    } catch (error) {
      const { code, message } =
        error instanceof AwsServiceError ? error : { code: 'InternalServiceError' as const, message: INTERNAL_ERROR_MESSAGE };
      respond = () => fail(code, message);
    }

    if (active.latencyMs <= 0) {
      respond();
      return;
    }
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      if (!res.destroyed) respond();
    }, active.latencyMs);
    pendingTimers.add(timer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    ...control,
    whenRotationsIdle: () => rotations.whenIdle(),
    whenReplicated: () => {
      regions.syncAll();
      return regions.whenIdle();
    },
    flushReplication: () => {
      regions.syncAll();
      regions.flush();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        rotations.close();
        regions.close();
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        server.close(() => resolve());
        for (const res of hungResponses) res.socket?.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The faults that fail a whole call before it reaches the store. */
function assertNoInjectedFailure(active: Readonly<Faults>, operation: string): void {
  if (active.outage) throw new AwsServiceError('InternalServiceError', INTERNAL_ERROR_MESSAGE);
  if (active.throttle) throw new AwsServiceError('ThrottlingException', 'Rate exceeded');
  if (active.denyOperations.includes(operation)) {
    throw new AwsServiceError(
      'AccessDeniedException',
      `User: ${LOCAL_CALLER_ARN} is not authorized to perform: secretsmanager:${operation} because no identity-based policy allows the secretsmanager:${operation} action`,
    );
  }
}

function parseJsonObject(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new AwsServiceError('SerializationException', 'The request body is not valid JSON.', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError('SerializationException', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limitBytes) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.removeAllListeners('data');
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // A client that goes away mid-body: settle (a no-op after 'end') so nothing waits forever.
    req.on('close', () => reject(new Error('request closed before its body was read')));
  });
}

/**
 * The region of a request: the third field of its SigV4 credential scope
 * (`Credential=AKID/20260101/us-west-2/secretsmanager/aws4_request`), from the Authorization
 * header or a presigned URL's X-Amz-Credential. Undefined when the request carries none.
 */
export function signingRegion(req: IncomingMessage, url: URL): string | undefined {
  const credential = /Credential=([^,\s]+)/.exec(headerValue(req, 'authorization') ?? '')?.[1] ?? url.searchParams.get('X-Amz-Credential') ?? '';
  const region = credential.split('/')[2];
  return region !== undefined && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? region : undefined;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, requestId: string, status: number, body: unknown, errorCode?: string): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
    ...(errorCode === undefined ? {} : { 'x-amzn-ErrorType': errorCode }),
  });
  res.end(payload);
}

/**
 * A JSON 1.1 error. Secrets Manager's own errors carry `Message`, the front end's `message`; both
 * are sent so every SDK fills both its `message` and its modelled `Message` member.
 */
function sendJsonError(res: ServerResponse, requestId: string, code: AwsErrorCode, message: string): void {
  sendJson(res, requestId, httpStatusFor(code), { __type: code, message, Message: message }, code);
}

function sendXml(res: ServerResponse, requestId: string, status: number, xml: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(xml),
    'x-amzn-RequestId': requestId,
  });
  res.end(xml);
}

function sendStsError(res: ServerResponse, requestId: string, code: AwsErrorCode, message: string): void {
  const status = httpStatusFor(code);
  sendXml(res, requestId, status, stsErrorXml(code, message, requestId, status));
}

function sendControl(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
