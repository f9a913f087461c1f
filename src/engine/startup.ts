import type { BackoffPolicy } from './backoff.js';
import { isThrottlingCode } from './aws-error.js';
import { backoffDelayMs } from './backoff.js';
import type { Clock } from './clock.js';
import { MissingSecretsError, SecretsError, SourceError } from './errors.js';
import type { Logger } from './logger.js';
import type { RefreshOutcome } from './refresh-outcome.js';

/** A required secret without a value after a load: name and why, never the value. */
export interface StartupProblem {
  readonly name: string;
  readonly reason: string;
}

export type StartupVerdict =
  | { readonly kind: 'ready' }
  | {
      readonly kind: 'retry' | 'fail';
      readonly error: SecretsError;
      readonly code: string;
      /** The store turned calls away for their rate: the fleet, not this instance, is the cause. */
      readonly throttled: boolean;
    };

/**
 * After a throttled attempt an instance waits a random moment within this share of what is left
 * of the start-up deadline: a fleet that started at once (and already took what the quota gave
 * in its first second) spreads its next attempts over that window, so they fit the quota instead
 * of meeting it again together. Half leaves the other half for a further round.
 */
export const THROTTLED_RETRY_SHARE_OF_DEADLINE = 0.5;

/**
 * Per-secret codes a refresh retries (keeping the cached value) but start-up does not: a value
 * without AWSCURRENT (a label moved under us, a stale replica) is an invalid required secret at
 * start-up, where nothing is cached, and fails at once with its name, as documented.
 */
const FATAL_AT_STARTUP: ReadonlySet<string> = new Set(['NotCurrentVersion']);

/**
 * What one start-up attempt means. Transient trouble (throttling, 5xx, timeouts, network errors,
 * for the whole source or for each missing required secret) is worth another attempt; denial,
 * a missing or invalid required secret is not: those fail at once.
 */
export function startupVerdict(outcome: RefreshOutcome, problems: readonly StartupProblem[]): StartupVerdict {
  if (!outcome.ok) {
    const { code, transient } = outcome;
    return { kind: transient ? 'retry' : 'fail', error: new SourceError(code, transient), code, throttled: isThrottlingCode(code) };
  }
  if (problems.length === 0) return { kind: 'ready' };
  const failures = new Map(outcome.failed.map((f) => [f.name, f]));
  const transient = problems.every((p) => {
    const f = failures.get(p.name);
    return f?.transient === true && !FATAL_AT_STARTUP.has(f.code);
  });
  const throttled = problems.some((p) => isThrottlingCode(failures.get(p.name)?.code ?? ''));
  return { kind: transient ? 'retry' : 'fail', error: new MissingSecretsError(problems), code: 'SECRETS_MISSING_REQUIRED', throttled };
}

export interface StartupOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The whole start-up's deadline. */
  readonly timeoutMs: number;
  /** One attempt's deadline (shortened to what is left of the start-up's). */
  readonly attemptTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly attempt: (timeoutMs: number) => Promise<RefreshOutcome>;
  /** Required secrets without a value after the last attempt. */
  readonly problems: () => readonly StartupProblem[];
  /** Aborted when the engine closes: a start-up waiting to retry stops at once. */
  readonly closed: AbortSignal;
}

/**
 * Loads the catalog for start-up, retrying transient failures with jittered backoff within the
 * start-up deadline, so a fleet that deploys into a throttled Secrets Manager (BatchGetSecretValue
 * allows 100 calls a second per region, not raisable) comes up instead of exiting. A throttled
 * attempt (the source has already fallen back to GetSecretValue per secret) is retried at a random
 * moment within half of what is left of the deadline, never sooner than the backoff: the fleet's
 * retries spread over a window that grows with the deadline, not the same second. Gives up with
 * the last error once the next retry would land past the deadline.
 */
export async function startUp(options: StartupOptions): Promise<void> {
  const { clock, logger, backoff, random } = options;
  const startedAtMs = clock.now();
  const deadlineAtMs = startedAtMs + options.timeoutMs;
  let earlier: Exclude<StartupVerdict, { kind: 'ready' }> | undefined;
  for (let attempt = 1; ; attempt++) {
    const attemptTimeoutMs = Math.max(1, Math.min(options.attemptTimeoutMs, deadlineAtMs - clock.now()));
    const outcome = await options.attempt(attemptTimeoutMs);
    const first = startupVerdict(outcome, options.problems());
    if (first.kind === 'ready') return;
    let verdict = first;
    // An attempt cut short by the start-up's own deadline says nothing about the store: report
    // what the store said before (e.g. ThrottlingException), not our timeout.
    if (verdict.code === 'AttemptTimeout' && attemptTimeoutMs < options.attemptTimeoutMs && earlier !== undefined) verdict = earlier;
    earlier = verdict;
    const backoffMs = backoffDelayMs(backoff, attempt, random);
    const delayMs = verdict.throttled ? Math.max(backoffMs, Math.round(random() * (deadlineAtMs - clock.now()) * THROTTLED_RETRY_SHARE_OF_DEADLINE)) : backoffMs;
    if (verdict.kind === 'fail' || clock.now() + delayMs >= deadlineAtMs) {
      if (verdict.kind === 'retry') {
        logger.error(
          { event: 'secrets.startup_gave_up', code: verdict.code, attempts: attempt, elapsedMs: clock.now() - startedAtMs },
          `Secrets still not loaded after ${attempt} attempts; giving up`,
        );
      }
      throw verdict.error;
    }
    logger.warn({ event: 'secrets.startup_retry', code: verdict.code, attempt, retryInMs: delayMs }, 'Secrets not loaded yet; retrying');
    await sleep(clock, delayMs, options.closed);
  }
}

function sleep(clock: Clock, delayMs: number, closed: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      timer.cancel();
      reject(new SecretsError('SECRETS_CLOSED', 'Secrets engine was closed during start-up'));
    };
    // Nothing else may be keeping the process alive while start-up waits to retry.
    const timer = clock.setTimeout(
      () => {
        closed.removeEventListener('abort', stop);
        resolve();
      },
      delayMs,
      { keepAlive: true },
    );
    closed.addEventListener('abort', stop, { once: true });
  });
}
