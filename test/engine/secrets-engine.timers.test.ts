import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import type { Clock } from '../../src/engine/clock.js';
import { MAX_TTL_MS } from '../../src/engine/engine-options.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { text } from '../../src/engine/value-kinds.js';
import { FakeClock, settle } from '../support/fake-clock.js';
import { MemorySource } from '../support/memory-source.js';

const DAY = 86_400_000;
const catalog = () => defineCatalog({ ADMIN_TOKEN: { kind: text(), required: true, description: 'admin' } });
const loads = (source: MemorySource) => source.calls.filter((c) => c.op === 'load').length;

afterEach(() => {
  vi.useRealTimers();
});

describe('SecretsEngine with a TTL past what one Node timer can wait (2^31-1 ms, about 24.9 days)', () => {
  it('makes no further call to the store within the TTL for a 60-day TTL, and refreshes once at its end', async () => {
    // Vitest's fake timers behave as Node's do: a delay over 2^31-1 ms fires after 1 ms.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const source = new MemorySource(() => Date.now());
    source.put('ADMIN_TOKEN', 'admin-v1');
    const engine = createSecretsEngine({ catalog: catalog(), source, ttlMs: 60 * DAY, random: () => 1 });
    await engine.initialize();

    await vi.advanceTimersByTimeAsync(300);
    const afterMoment = loads(source);
    await vi.advanceTimersByTimeAsync(60 * DAY - 1_000);
    const beforeTtl = loads(source);
    await vi.advanceTimersByTimeAsync(1_000);
    engine.close();

    expect([afterMoment, beforeTtl, loads(source)]).toEqual([1, 1, 2]);
  });

  it('refuses a TTL above the ceiling, naming the option', () => {
    const source = new MemorySource(() => 0);
    expect(() => createSecretsEngine({ catalog: catalog(), source, ttlMs: MAX_TTL_MS + 1 })).toThrow(/ttlMs must be at most/);
    expect(() => createSecretsEngine({ catalog: catalog(), source, ttlMs: MAX_TTL_MS })).not.toThrow();
  });
});

describe('SecretsEngine without timers (autoRefresh: false) on a host that froze', () => {
  it('starts the next attempt on the first read after the TTL although no timer callback has run', async () => {
    const fake = new FakeClock();
    let frozenMs = 0;
    // A frozen host (Lambda between invocations): the wall clock moves on, timer callbacks do not run.
    const clock: Clock = { now: () => fake.now() + frozenMs, setTimeout: (fn, delayMs, options) => fake.setTimeout(fn, delayMs, options) };
    const source = new MemorySource(() => clock.now());
    source.put('ADMIN_TOKEN', 'admin-v1');
    const engine = createSecretsEngine({ catalog: catalog(), source, clock, ttlMs: 60_000, autoRefresh: false });
    await engine.initialize();
    source.put('ADMIN_TOKEN', 'admin-v2');

    frozenMs = 59_999;
    engine.get('ADMIN_TOKEN');
    await settle();
    const beforeTtl = loads(source);
    frozenMs = 60_000;
    const served = engine.get('ADMIN_TOKEN');
    await settle();

    expect(beforeTtl).toBe(1);
    expect(served).toBe('admin-v1');
    expect(loads(source)).toBe(2);
    expect(engine.get('ADMIN_TOKEN')).toBe('admin-v2');
    expect(engine.status().secrets.ADMIN_TOKEN).toMatchObject({ versionId: 'v2' });
  });

  it('starts the retry on the first read after a failed attempt\'s backoff, timers frozen', async () => {
    const fake = new FakeClock();
    let frozenMs = 0;
    const clock: Clock = { now: () => fake.now() + frozenMs, setTimeout: (fn, delayMs, options) => fake.setTimeout(fn, delayMs, options) };
    const source = new MemorySource(() => clock.now());
    source.put('ADMIN_TOKEN', 'admin-v1');
    const engine = createSecretsEngine({
      catalog: catalog(),
      source,
      clock,
      ttlMs: 60_000,
      autoRefresh: false,
      backoff: { baseMs: 10_000, capMs: 10_000 },
      random: () => 1,
    });
    await engine.initialize();
    source.failSecret.set('ADMIN_TOKEN', { name: 'ADMIN_TOKEN', code: 'ThrottlingException', transient: true });
    frozenMs = 60_000;
    engine.get('ADMIN_TOKEN');
    await settle();
    source.failSecret.clear();
    const afterFailure = loads(source);

    frozenMs = 60_000 + 9_999;
    engine.get('ADMIN_TOKEN');
    await settle();
    const beforeRetry = loads(source);
    frozenMs = 60_000 + 10_000;
    engine.get('ADMIN_TOKEN');
    await settle();

    expect([afterFailure, beforeRetry, loads(source)]).toEqual([2, 2, 3]);
  });
});
