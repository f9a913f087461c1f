import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, withDeadline } from '../../src/engine/deadline.js';
import { FakeClock, settle } from '../support/fake-clock.js';

describe('withDeadline', () => {
  it('settles with the work when it finishes in time, and leaves no timer behind', async () => {
    const clock = new FakeClock();
    await expect(withDeadline(Promise.resolve(42), { timeoutMs: 1_000, clock })).resolves.toBe(42);
    await expect(withDeadline(async () => 'done', { timeoutMs: 1_000, clock })).resolves.toBe('done');
    await expect(withDeadline(Promise.reject(new Error('boom')), { timeoutMs: 1_000, clock })).rejects.toThrow('boom');
    expect(clock.pending()).toEqual([]);
  });

  it('rejects at the deadline with DeadlineExceededError and aborts the work’s signal', async () => {
    const clock = new FakeClock();
    let signal: AbortSignal | undefined;
    const pending = withDeadline((s) => {
      signal = s;
      return new Promise<never>(() => {});
    }, { timeoutMs: 1_000, clock }).catch((e: unknown) => e);

    await clock.advance(999);
    expect(signal!.aborted).toBe(false);
    await clock.advance(1);
    const err = await pending;

    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err).toMatchObject({ name: 'DeadlineExceededError', code: 'Timeout', timeoutMs: 1_000, message: 'Timed out after 1000 ms' });
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(err);
  });

  it('rejects with the error it is given, and swallows the late outcome of the work', async () => {
    const clock = new FakeClock();
    let fail!: (e: Error) => void;
    const work = new Promise<never>((_, reject) => (fail = reject));
    const mine = new Error('mine');
    const pending = withDeadline(work, { timeoutMs: 10, clock, error: () => mine }).catch((e: unknown) => e);

    await clock.advance(10);
    fail(new Error('late'));
    await settle();

    expect(await pending).toBe(mine);
  });

  it('turns work that throws before returning a promise into a rejection', async () => {
    const clock = new FakeClock();
    const pending = withDeadline(() => {
      throw new Error('sync');
    }, { timeoutMs: 10, clock });
    await expect(pending).rejects.toThrow('sync');
    expect(clock.pending()).toEqual([]);
  });

  it('uses the system clock by default', async () => {
    await expect(withDeadline(new Promise<never>(() => {}), { timeoutMs: 5 })).rejects.toBeInstanceOf(DeadlineExceededError);
  });
});

describe('withDeadline and many calls on one signal', () => {
  it('lets one attempt hand its signal to 20 parallel calls without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await withDeadline(
        (signal) =>
          Promise.all(
            Array.from({ length: 20 }, () => {
              const listener = () => {};
              signal.addEventListener('abort', listener);
              return Promise.resolve();
            }),
          ),
        { timeoutMs: 1_000 },
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
