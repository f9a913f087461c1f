import { describe, expect, it } from 'vitest';
import type { MissingSecretsError } from '../../src/engine/errors.js';
import type { RefreshOutcome } from '../../src/engine/refresh-outcome.js';
import { startUp, startupVerdict, type StartupProblem } from '../../src/engine/startup.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';

const ok = (failed: { name: string; code: string; transient: boolean }[] = []): RefreshOutcome => ({ ok: true, reason: 'startup', changed: [], failed });
const down = (code: string, transient: boolean): RefreshOutcome => ({ ok: false, reason: 'startup', code, transient });

describe('startupVerdict', () => {
  it('is ready when every required secret has a value', () => {
    expect(startupVerdict(ok(), [])).toEqual({ kind: 'ready' });
  });

  it('retries a source that failed transiently and fails at once on anything else', () => {
    expect(startupVerdict(down('ThrottlingException', true), [])).toMatchObject({ kind: 'retry', code: 'ThrottlingException' });
    const denied = startupVerdict(down('AccessDeniedException', false), []);
    expect(denied).toMatchObject({ kind: 'fail', code: 'AccessDeniedException' });
    expect((denied as { error: unknown }).error).toMatchObject({ sourceCode: 'AccessDeniedException', transient: false });
  });

  it('retries only when every missing required secret failed transiently', () => {
    const problems: StartupProblem[] = [
      { name: 'A', reason: 'InternalServiceError' },
      { name: 'B', reason: 'ThrottlingException' },
    ];
    const transient = ok([
      { name: 'A', code: 'InternalServiceError', transient: true },
      { name: 'B', code: 'ThrottlingException', transient: true },
    ]);
    const mixed = ok([
      { name: 'A', code: 'InternalServiceError', transient: true },
      { name: 'B', code: 'AccessDeniedException', transient: false },
    ]);

    expect(startupVerdict(transient, problems)).toMatchObject({ kind: 'retry', code: 'SECRETS_MISSING_REQUIRED' });
    expect(startupVerdict(mixed, problems).kind).toBe('fail');
    expect(startupVerdict(ok(), [{ name: 'A', reason: 'missing' }]).kind).toBe('fail');
    expect(((startupVerdict(ok(), problems) as { error: unknown }).error as MissingSecretsError).problems).toEqual(problems);
  });
});

describe('startUp', () => {
  function harness(outcomes: RefreshOutcome[], opts: { timeoutMs?: number } = {}) {
    const clock = new FakeClock();
    const logger = captureLogger();
    const closing = new AbortController();
    const timeouts: number[] = [];
    const startedAt: number[] = [];
    const promise = startUp({
      clock,
      logger,
      timeoutMs: opts.timeoutMs ?? 30_000,
      attemptTimeoutMs: 8_000,
      backoff: { baseMs: 1_000, capMs: 8_000 },
      random: () => 1,
      attempt: async (timeoutMs) => {
        timeouts.push(timeoutMs);
        startedAt.push(clock.now());
        return outcomes[Math.min(startedAt.length - 1, outcomes.length - 1)]!;
      },
      problems: () => [],
      closed: closing.signal,
    }).then(
      () => 'ready',
      (e: unknown) => e,
    );
    return { clock, logger, closing, timeouts, startedAt, promise };
  }

  it('retries transient failures with backoff until the source answers', async () => {
    const h = harness([down('InternalServiceError', true), down('InternalServiceError', true), ok()]);
    await h.clock.advance(0);
    // The wait keeps the process alive: at start-up nothing else may.
    expect(h.clock.keepingAlive()).toEqual([h.clock.now() + 1_000]);
    await h.clock.advance(3_000);

    expect(await h.promise).toBe('ready');
    expect(h.startedAt.map((t) => t - h.startedAt[0]!)).toEqual([0, 1_000, 3_000]);
    expect(h.logger.lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Secrets not loaded yet; retrying'],
      ['warn', 'Secrets not loaded yet; retrying'],
    ]);
    expect(h.logger.lines.filter((l) => l.obj.event === 'secrets.startup_retry').map((l) => l.obj)).toEqual([
      { event: 'secrets.startup_retry', code: 'InternalServiceError', attempt: 1, retryInMs: 1_000 },
      { event: 'secrets.startup_retry', code: 'InternalServiceError', attempt: 2, retryInMs: 2_000 },
    ]);
  });

  it('gives each attempt what is left of the start-up deadline, at most its own', async () => {
    const h = harness([down('InternalServiceError', true)], { timeoutMs: 10_000 });
    await h.clock.advance(10_000);
    await h.promise;

    expect(h.timeouts).toEqual([8_000, 8_000, 7_000, 3_000]);
  });

  it('gives up with the last error once the next retry would land past the deadline', async () => {
    const h = harness([down('InternalServiceError', true)], { timeoutMs: 30_000 });
    await h.clock.advance(30_000);

    expect(await h.promise).toMatchObject({ sourceCode: 'InternalServiceError' });
    expect(h.startedAt.at(-1)! - h.startedAt[0]!).toBeLessThan(30_000);
    expect(h.logger.lines.find((l) => l.obj.event === 'secrets.startup_gave_up')).toMatchObject({
      level: 'error',
      msg: `Secrets still not loaded after ${h.startedAt.length} attempts; giving up`,
      obj: { code: 'InternalServiceError', attempts: h.startedAt.length },
    });
  });

  it("reports the store's own error, not its own timeout, when the deadline cuts the last attempt short", async () => {
    // Attempts get 8 s, 8 s, 7 s, then the 3 s left: that last one times out on our deadline.
    const h = harness(
      [down('InternalServiceError', true), down('InternalServiceError', true), down('InternalServiceError', true), down('AttemptTimeout', true)],
      { timeoutMs: 10_000 },
    );
    await h.clock.advance(10_000);

    expect(await h.promise).toMatchObject({ sourceCode: 'InternalServiceError' });
    expect(h.timeouts.at(-1)).toBeLessThan(8_000);
    expect(h.logger.lines.find((l) => l.obj.event === 'secrets.startup_gave_up')?.obj).toMatchObject({ code: 'InternalServiceError' });
  });

  it('reports an attempt timeout that ran its full length as it is', async () => {
    const h = harness([down('AttemptTimeout', true)], { timeoutMs: 10_000 });
    await h.clock.advance(10_000);

    expect(await h.promise).toMatchObject({ sourceCode: 'AttemptTimeout' });
  });

  it('retries a throttled attempt at a random moment within half of what is left of the deadline, never sooner than the backoff', async () => {
    const h = harness([down('ThrottlingException', true)], { timeoutMs: 30_000 });
    await h.clock.advance(30_000);

    expect(await h.promise).toMatchObject({ sourceCode: 'ThrottlingException' });
    // random() is 1: 15 s (half of 30), 7.5 s (half of 15), then the backoff's 4 s beats half of 7.5.
    expect(h.startedAt.map((t) => t - h.startedAt[0]!)).toEqual([0, 15_000, 22_500, 26_500]);
  });

  it('takes missing required secrets that were throttled as a throttled attempt', () => {
    const verdict = startupVerdict(ok([{ name: 'A', code: 'ThrottlingException', transient: true }]), [{ name: 'A', reason: 'ThrottlingException' }]);
    const other = startupVerdict(ok([{ name: 'A', code: 'InternalServiceError', transient: true }]), [{ name: 'A', reason: 'InternalServiceError' }]);

    expect(verdict).toMatchObject({ kind: 'retry', throttled: true });
    expect(other).toMatchObject({ kind: 'retry', throttled: false });
    expect(startupVerdict(down('ThrottlingException', true), [])).toMatchObject({ throttled: true });
  });

  it('fails at once on denial, without a give-up line', async () => {
    const h = harness([down('AccessDeniedException', false)]);
    expect(await h.promise).toMatchObject({ sourceCode: 'AccessDeniedException' });
    expect(h.startedAt).toHaveLength(1);
    expect(h.logger.lines).toEqual([]);
  });

  it('stops waiting to retry when the engine closes', async () => {
    const h = harness([down('InternalServiceError', true)]);
    await h.clock.advance(0);
    h.closing.abort();

    expect(await h.promise).toMatchObject({ code: 'SECRETS_CLOSED', message: 'Secrets engine was closed during start-up' });
    expect(h.clock.pending()).toEqual([]);
  });
});

describe('startUp at its deadline', () => {
  it('gives up when the next retry would land exactly at the deadline, and says how long it tried', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    let attempts = 0;
    const done = startUp({
      clock,
      logger,
      timeoutMs: 15_000,
      attemptTimeoutMs: 8_000,
      backoff: { baseMs: 1_000, capMs: 8_000 },
      random: () => 1,
      attempt: async () => {
        attempts++;
        return down('InternalServiceError', true);
      },
      problems: () => [],
      closed: new AbortController().signal,
    }).catch((e: unknown) => e);
    await clock.advance(20_000);
    await done;

    expect(attempts).toBe(4);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.startup_gave_up')?.obj).toMatchObject({ attempts: 4, elapsedMs: 7_000 });
  });
});
