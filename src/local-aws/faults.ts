/**
 * Faults the local endpoint injects into AWS calls (never into control-plane calls). Set in
 * process with `setFaults(partial)` or over HTTP with `PUT /_local/faults`.
 */
export interface Faults {
  /** Wall-clock delay added before every AWS response, errors included. */
  latencyMs: number;
  /** Read each AWS request, then never answer it; `close()` destroys those sockets. */
  hang: boolean;
  /**
   * Every AWS call answers HTTP 500 `InternalServiceError`, the server error Secrets Manager
   * models for itself (the SDK treats it as transient and retries it).
   */
  outage: boolean;
  /** Every AWS call answers HTTP 400 `ThrottlingException` ("Rate exceeded"), as AWS does. */
  throttle: boolean;
  /**
   * Secret names whose GetSecretValue / PutSecretValue answer `AccessDeniedException`; inside a
   * BatchGetSecretValue they land in `Errors[]` with that ErrorCode.
   */
  denySecrets: string[];
  /** Operation names (e.g. `BatchGetSecretValue`) that answer `AccessDeniedException` whole. */
  denyOperations: string[];
  /**
   * Staging labels whose UpdateSecretVersionStage answers `AccessDeniedException` (a rotation
   * refused at its switch, `AWSCURRENT`, while its claim on `AWSPENDING` goes through).
   */
  denyStageMoves: string[];
  /** Secret names that land in `Errors[]` of a BatchGetSecretValue with `InternalServiceError`. */
  failInBatch: string[];
  /**
   * Per-operation quota, as AWS's per-API request quotas: at most this many calls of one operation
   * in each second of the endpoint's clock; the rest answer `ThrottlingException`. 0: no limit.
   */
  rateLimitPerSecond: number;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  hang: false,
  outage: false,
  throttle: false,
  denySecrets: [],
  denyOperations: [],
  denyStageMoves: [],
  failInBatch: [],
  rateLimitPerSecond: 0,
});

const BOOLEAN_KEYS = ['hang', 'outage', 'throttle'] as const;
const LIST_KEYS = ['denySecrets', 'denyOperations', 'denyStageMoves', 'failInBatch'] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set<string>(['latencyMs', 'rateLimitPerSecond', ...BOOLEAN_KEYS, ...LIST_KEYS]);

/** The faults in force, changed by merging partial settings. */
export class FaultSettings {
  private current: Faults = copyFaults(NO_FAULTS);

  get(): Readonly<Faults> {
    return this.current;
  }

  /** Merges `partial` into the faults in force; throws TypeError (and changes nothing) on a bad field. */
  set(partial: Partial<Faults>): void {
    const checked = parseFaults(partial);
    this.current = copyFaults({ ...this.current, ...checked });
  }

  clear(): void {
    this.current = copyFaults(NO_FAULTS);
  }
}

/**
 * Checks an untrusted partial faults object (an HTTP body, or a caller without types) and returns
 * it typed. Throws TypeError naming the field, never its value.
 */
export function parseFaults(input: unknown): Partial<Faults> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError('faults must be a JSON object');
  }
  const record = input as Record<string, unknown>;
  const result: Partial<Faults> = {};
  for (const key of Object.keys(record)) {
    if (!KNOWN_KEYS.has(key)) throw new TypeError(`unknown fault: ${key}`);
  }
  if (record.latencyMs !== undefined) {
    const latencyMs = record.latencyMs;
    if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) {
      throw new TypeError('latencyMs must be a non-negative number');
    }
    result.latencyMs = latencyMs;
  }
  if (record.rateLimitPerSecond !== undefined) {
    const limit = record.rateLimitPerSecond;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
      throw new TypeError('rateLimitPerSecond must be a non-negative integer');
    }
    result.rateLimitPerSecond = limit;
  }
  for (const key of BOOLEAN_KEYS) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new TypeError(`${key} must be a boolean`);
    result[key] = value;
  }
  for (const key of LIST_KEYS) {
    const value = record[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
      throw new TypeError(`${key} must be an array of strings`);
    }
    result[key] = [...value];
  }
  return result;
}

/**
 * Counts calls per operation in fixed one-second windows of the endpoint's clock, for the
 * `rateLimitPerSecond` fault. With an injected clock, tests decide when a second passes, so a
 * throttling scenario does not depend on the machine's speed.
 */
export class RateWindow {
  private second = Number.NaN;
  private counts = new Map<string, number>();

  /** Counts the call; false when it is over `limitPerSecond` (0: no limit) in the current second. */
  admit(operation: string, nowMs: number, limitPerSecond: number): boolean {
    if (limitPerSecond <= 0) return true;
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.counts.clear();
    }
    const n = (this.counts.get(operation) ?? 0) + 1;
    this.counts.set(operation, n);
    return n <= limitPerSecond;
  }
}

function copyFaults(faults: Readonly<Faults>): Faults {
  return {
    ...faults,
    denySecrets: [...faults.denySecrets],
    denyOperations: [...faults.denyOperations],
    failInBatch: [...faults.failInBatch],
  };
}
