/**
 * The rotation functions the local endpoint can call, standing in for AWS Lambda. A test registers
 * one in process (an async function), or `npm run local-aws` / `PUT /_local/rotation-functions`
 * registers one over HTTP: the event is POSTed as JSON to a loopback URL, the way the Lambda
 * Runtime Interface Emulator takes an invocation
 * (`http://127.0.0.1:9000/2015-03-31/functions/function/invocations`).
 */
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** What Secrets Manager sends the rotation function for each step. */
export interface RotationEvent {
  /** The secret's ARN. */
  readonly SecretId: string;
  /** The id of the version being rotated in (AWSPENDING). */
  readonly ClientRequestToken: string;
  readonly Step: RotationStep;
}

export type RotationHandler = (event: RotationEvent) => Promise<unknown>;
export type RotationFunction = RotationHandler | { readonly url: string };

/** A step that failed: the function threw, answered an error, or timed out. */
export class RotationStepError extends Error {
  readonly errorType: string;

  constructor(errorType: string, message: string) {
    super(message);
    this.name = 'RotationStepError';
    this.errorType = errorType;
  }
}

/** Error text kept from a function: bounded, since it is the function's to choose. */
const MAX_ERROR_MESSAGE_CHARS = 500;

export class RotationFunctions {
  private readonly byArn = new Map<string, RotationFunction>();

  /** Registers (or replaces) the function at `arn`. An HTTP function must be on a loopback address. */
  register(arn: string, fn: RotationFunction): void {
    if (arn.length === 0 || arn.length > 2048) throw new TypeError('a rotation function ARN has 1 to 2048 characters');
    if (typeof fn !== 'function') checkLoopbackUrl(fn.url);
    this.byArn.set(arn, fn);
  }

  unregister(arn: string): boolean {
    return this.byArn.delete(arn);
  }

  has(arn: string): boolean {
    return this.byArn.has(arn);
  }

  list(): Array<{ arn: string; kind: 'in-process' | 'http'; url?: string }> {
    return [...this.byArn].map(([arn, fn]) => (typeof fn === 'function' ? { arn, kind: 'in-process' as const } : { arn, kind: 'http' as const, url: fn.url }));
  }

  /** Runs one step; rejects with RotationStepError when it fails or takes longer than `timeoutMs`. */
  async invoke(arn: string, event: RotationEvent, timeoutMs: number): Promise<void> {
    const fn = this.byArn.get(arn);
    if (fn === undefined) throw new RotationStepError('ResourceNotFoundException', 'The rotation function is not registered.');
    if (typeof fn === 'function') {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RotationStepError('TimeoutError', `The step did not finish within ${timeoutMs} ms.`)), timeoutMs);
      });
      try {
        await Promise.race([Promise.resolve().then(() => fn(event)), timeout]);
      } catch (err) {
        if (err instanceof RotationStepError) throw err;
        const e = err as { name?: unknown; message?: unknown };
        throw new RotationStepError(typeof e.name === 'string' ? e.name : 'Error', bounded(e.message));
      } finally {
        clearTimeout(timer);
      }
      return;
    }
    await invokeOverHttp(fn.url, event, timeoutMs);
  }
}

async function invokeOverHttp(url: string, event: RotationEvent, timeoutMs: number): Promise<void> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const name = (err as { name?: unknown }).name;
    throw new RotationStepError(name === 'TimeoutError' ? 'TimeoutError' : 'InvocationFailed', 'The rotation function could not be invoked.');
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  // Lambda answers a function's error with 200, an X-Amz-Function-Error header and an error body.
  const errorBody = body !== null && typeof body === 'object' && ('errorType' in body || 'errorMessage' in body) ? (body as { errorType?: unknown; errorMessage?: unknown }) : undefined;
  if (res.ok && res.headers.get('x-amz-function-error') === null && errorBody === undefined) return;
  const type = typeof errorBody?.errorType === 'string' ? errorBody.errorType : res.ok ? 'Unhandled' : `HTTP${res.status}`;
  throw new RotationStepError(type, bounded(errorBody?.errorMessage ?? `The rotation function answered HTTP ${res.status}.`));
}

function bounded(message: unknown): string {
  return typeof message === 'string' ? message.slice(0, MAX_ERROR_MESSAGE_CHARS) : '';
}

/** Only loopback addresses are ever a target: the local endpoint must not call out. */
export function checkLoopbackUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('the rotation function URL is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError('the rotation function URL must be http: or https:');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host !== 'localhost' && host !== '::1' && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    throw new TypeError('the rotation function URL must be on a loopback address');
  }
}
