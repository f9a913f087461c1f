import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFailureThrottle, DEFAULT_THROTTLE_KEY_PREFIX, THROTTLE_SCRIPTS, type Decision } from '../../src/service/failure-throttle.js';
import { REDIS_CLIENT_OPTIONS } from '../../src/service/redis-connection.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock, settle } from '../support/fake-clock.js';
import { waitFor } from './support/wait-for.js';
import { SHARED_REDIS_URL, startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from './support/redis-server.js';

const prefix = () => `test-throttle:${randomBytes(6).toString('hex')}:`;

describe('createFailureThrottle with Redis up', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    await whenRedisReady(redis);
  });

  afterAll(() => {
    redis.disconnect();
  });

  it('grants wrong credentials until the limit, then blocks the client with the time left', async () => {
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix() });

    const granted = [];
    for (let i = 0; i < 3; i++) granted.push(await throttle.decide('1.2.3.4', 'wrong'));
    const decision = await throttle.decide('1.2.3.4', 'wrong');

    expect(granted.map((r) => [r.blocked, r.attempts, r.remaining, r.store])).toEqual([
      [false, 1, 2, 'redis'],
      [false, 2, 1, 'redis'],
      [false, 3, 0, 'redis'],
    ]);
    expect(decision.blocked).toBe(true);
    expect(decision.retryAfterSeconds).toBeGreaterThan(55);
    expect(decision.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await throttle.peek('1.2.3.4')).blocked).toBe(true);
    expect((await throttle.decide('1.2.3.4', 'right')).blocked).toBe(true);
    expect((await throttle.decide('5.6.7.8', 'wrong')).blocked).toBe(false);
  });

  it('decides atomically: of many concurrent wrong credentials exactly the limit are granted', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 60_000, keyPrefix });

    const all = await Promise.all(Array.from({ length: 100 }, () => throttle.decide('2.2.2.2', 'wrong')));

    expect(all.filter((r) => !r.blocked)).toHaveLength(10);
    expect(await redis.hget(`${keyPrefix}2.2.2.2`, 'n')).toBe('10');
  });

  it('never counts a right credential, however many are in flight', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix });
    await throttle.decide('r', 'wrong');

    const rights = await Promise.all(Array.from({ length: 50 }, () => throttle.decide('r', 'right')));
    const second = await throttle.decide('r', 'wrong');

    expect(rights.every((r) => !r.blocked)).toBe(true);
    expect(second).toMatchObject({ blocked: false, attempts: 2, remaining: 0 });
    expect(await redis.hget(`${keyPrefix}r`, 'n')).toBe('2');
  });

  it('shares the count across instances through Redis', async () => {
    const keyPrefix = prefix();
    const a = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });
    const b = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });

    await a.decide('9.9.9.9', 'wrong');
    await a.decide('9.9.9.9', 'wrong');
    await b.decide('9.9.9.9', 'wrong');
    await b.decide('9.9.9.9', 'wrong');

    expect((await a.peek('9.9.9.9')).blocked).toBe(true);
    expect((await b.decide('9.9.9.9', 'wrong')).blocked).toBe(true);
  });

  it('counts a reservation once however often its script runs (a resend after a dropped connection)', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix, newId: () => 'the-same-reservation' });

    const first = await throttle.decide('d', 'wrong');
    const again = await throttle.decide('d', 'wrong');

    expect([first.blocked, again.blocked]).toEqual([false, false]);
    expect(await redis.hget(`${keyPrefix}d`, 'n')).toBe('1');
  });

  it('carries over the counter an earlier version left, window included', async () => {
    const keyPrefix = prefix();
    await redis.set(`${keyPrefix}old`, '3', 'PX', 30_000);
    const throttle = createFailureThrottle({ redis, maxFailures: 4, windowMs: 60_000, keyPrefix });

    const decision = await throttle.decide('old', 'wrong');

    expect(decision).toMatchObject({ blocked: false, attempts: 4, remaining: 0 });
    expect(await redis.pttl(`${keyPrefix}old`)).toBeLessThanOrEqual(30_000);
  });

  it('sets the window once, at the first failure', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 5_000, keyPrefix });

    await throttle.decide('c', 'wrong');
    const ttl1 = await redis.pttl(`${keyPrefix}c`);
    // Some of the window has gone by: a second attempt that set it again would put it back near 5 s.
    await waitFor(async () => (await redis.pttl(`${keyPrefix}c`)) < ttl1 - 20);
    await throttle.decide('c', 'wrong');
    const ttl2 = await redis.pttl(`${keyPrefix}c`);

    expect(ttl1).toBeGreaterThan(4_000);
    expect(ttl2).toBeLessThan(ttl1 - 20);
  });

  it('leaves no key for a client that only sent right credentials', async () => {
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, keyPrefix });

    await throttle.decide('ok', 'right');
    await throttle.peek('ok');

    expect(await redis.exists(`${keyPrefix}ok`)).toBe(0);
  });

  it('names the key that holds a client\'s count', () => {
    expect(createFailureThrottle({ redis }).keyFor('203.0.113.9')).toBe('admin-auth-failures:203.0.113.9');
  });
});

describe('createFailureThrottle with Redis down', () => {
  let server: ThrowawayRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startThrowawayRedis();
    redis = new Redis(server.url, REDIS_CLIENT_OPTIONS);
    redis.on('error', () => {});
    await whenRedisReady(redis);
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  async function up(): Promise<void> {
    if (server.pid === undefined) await server.start();
    await whenRedisReady(redis);
  }

  it('still blocks per instance, at once, when Redis is stopped', async () => {
    await server.stop();
    const clock = new FakeClock();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix: prefix(), clock });

    const started = Date.now();
    const granted = [];
    for (let i = 0; i < 3; i++) granted.push(await throttle.decide('6.6.6.6', 'wrong'));
    const decision = await throttle.decide('6.6.6.6', 'wrong');

    expect(granted.map((r) => [r.blocked, r.store])).toEqual(Array(3).fill([false, 'memory']));
    expect(decision).toMatchObject({ blocked: true, retryAfterSeconds: 60 });
    expect(await throttle.peek('6.6.6.6')).toEqual({ blocked: true, retryAfterSeconds: 60 });
    expect((await throttle.decide('6.6.6.6', 'right')).blocked).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    await clock.advance(60_000);
    expect((await throttle.decide('6.6.6.6', 'wrong')).blocked).toBe(false);
    await up();
  });

  it('grants from memory only what Redis\'s last word left: no second budget', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 10, windowMs: 60_000, keyPrefix });
    for (let i = 0; i < 7; i++) await throttle.decide('m3', 'wrong');
    await server.stop();

    const fromMemory = [];
    for (let i = 0; i < 5; i++) fromMemory.push(await throttle.decide('m3', 'wrong'));

    expect(fromMemory.map((d) => [d.blocked, d.attempts, d.remaining, d.store])).toEqual([
      [false, 8, 2, 'memory'],
      [false, 9, 1, 'memory'],
      [false, 10, 0, 'memory'],
      [true, 10, 0, 'memory'],
      [true, 10, 0, 'memory'],
    ]);
    await up();
  });

  it('settles what memory answered into Redis once Redis answers again, and gives back what it refused', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix });
    await server.stop();
    for (let i = 0; i < 4; i++) await throttle.decide('s', 'wrong'); // 3 granted, 1 refused
    await up();

    const next = await throttle.decide('s', 'right'); // Redis answers: what is owed is paid after it
    await until(async () => (await redis.hget(`${keyPrefix}s`, 'n')) === '3');
    const settled = await throttle.decide('s', 'right');

    // Before the settlements land, Redis's count (0) plus what memory answered: still locked out.
    expect(next).toMatchObject({ blocked: true, store: 'redis', attempts: 3 });
    expect(settled).toMatchObject({ blocked: true, store: 'redis', attempts: 3 });
    expect(await redis.hlen(`${keyPrefix}s`)).toBe(4); // n and the three reservations
  });

  it('counts once a wrong credential answered from memory whose script reached Redis late: the owner is not locked out by it', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix, redisTimeoutMs: 100, guessTimeoutMs: 100 });
    server.pause();
    const typo = await throttle.decide('late', 'wrong'); // memory answers; its script waits in the socket
    server.resume();
    await until(async () => (await redis.hget(`${keyPrefix}late`, 'n')) === '1'); // the late script ran

    const right = await throttle.decide('late', 'right');

    expect(typo).toMatchObject({ blocked: false, store: 'memory' });
    expect(right).toMatchObject({ blocked: false, store: 'redis', attempts: 1, remaining: 1 });
  });

  it('gives back a wrong credential memory refused whose script reached Redis late and was counted there', async () => {
    await up();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix, redisTimeoutMs: 100, guessTimeoutMs: 100 });
    await throttle.decide('gb', 'wrong');
    await throttle.decide('gb', 'wrong');
    // An operator clears the key by hand (no unlock notice): memory still holds the lockout.
    await redis.del(`${keyPrefix}gb`);
    server.pause();
    const refused = await throttle.decide('gb', 'wrong'); // memory refuses; its script waits in the socket
    server.resume();
    await until(async () => (await redis.hget(`${keyPrefix}gb`, 'n')) === '1'); // the late script ran, with room to count it

    const right = await throttle.decide('gb', 'right'); // Redis answers: the give-back is sent after it

    expect(refused).toMatchObject({ blocked: true, store: 'memory' });
    expect(right).toMatchObject({ blocked: false, store: 'redis' });
    expect(await redis.exists(`${keyPrefix}gb`)).toBe(0);
  });

  it('makes a right and a wrong token wait for a slow Redis alike, so a client Redis locked out learns nothing from 200 against 429', async () => {
    const clock = new FakeClock();
    let answer: ((reply: unknown) => void)[] = [];
    // Redis has this client locked out (10 counted elsewhere) and answers late: after 1 s.
    const stand = { eval: () => new Promise<unknown>((resolve) => answer.push(resolve)) } as unknown as Pick<Redis, 'eval'>;
    const throttle = createFailureThrottle({ redis: stand, maxFailures: 10, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 2_000, clock });

    const decisions = Promise.all([throttle.decide('8.8.8.8', 'right'), throttle.decide('8.8.8.8', 'wrong')]);
    await clock.advance(1_000);
    for (const resolve of answer) resolve([10, 59_000, 0]);
    answer = [];
    const [right, wrong] = await decisions;

    expect([right.blocked, right.store]).toEqual([true, 'redis']);
    expect([wrong.blocked, wrong.store]).toEqual([true, 'redis']);
  });

  it('answers a client Redis last showed locked out in the same time whether its token is right or wrong: no timing tell while Redis is silent', async () => {
    const clock = new FakeClock();
    let silent = false;
    // Redis's last word: 10 wrong credentials in the window. Then it stops answering.
    const stand = { eval: () => (silent ? new Promise<unknown>(() => {}) : Promise.resolve([10, 60_000, 0])) } as unknown as Pick<Redis, 'eval'>;
    const throttle = createFailureThrottle({ redis: stand, maxFailures: 10, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 2_000, clock });
    expect((await throttle.decide('9.9.9.9', 'right')).blocked).toBe(true);
    silent = true;

    const answeredAt: Record<string, number> = {};
    const started = clock.now();
    for (const credential of ['right', 'wrong'] as const) void throttle.decide('9.9.9.9', credential).then((d) => (answeredAt[credential] = d.blocked ? clock.now() - started : -1));
    await clock.advance(250);

    expect(answeredAt).toEqual({ right: 250, wrong: 250 });
  });

  it('answers a right credential from memory within its deadline when Redis accepts connections but never answers', async () => {
    await up();
    server.pause();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix: prefix(), redisTimeoutMs: 100, guessTimeoutMs: 300 });

    try {
      const started = Date.now();
      const right = await throttle.decide('7.7.7.7', 'right');
      await throttle.decide('7.7.7.7', 'wrong');
      await throttle.decide('7.7.7.7', 'wrong');
      const decision = await throttle.decide('7.7.7.7', 'wrong');

      expect(right).toMatchObject({ blocked: false, store: 'memory' });
      expect(decision).toMatchObject({ blocked: true, store: 'memory' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.resume();
    }
  });

  it('forgets a client on unlock: its memory count and what it owed Redis, and only that client\'s', async () => {
    await server.stop();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 2, windowMs: 60_000, keyPrefix });
    await throttle.decide('203.0.113.5', 'wrong');
    await throttle.decide('203.0.113.6', 'wrong');
    await throttle.decide('203.0.113.5', 'wrong');
    expect((await throttle.peek('203.0.113.5')).blocked).toBe(true);

    expect(throttle.forget('203.0.113.5')).toBe(true);
    expect(throttle.forget('203.0.113.5')).toBe(false);
    expect((await throttle.peek('203.0.113.5')).blocked).toBe(false);
    await up();
    await throttle.decide('203.0.113.5', 'right');
    // What 203.0.113.6 was owed is paid after the reply; 203.0.113.5's, before it in line, was dropped.
    await until(async () => (await redis.hget(`${keyPrefix}203.0.113.6`, 'n')) === '1');
    expect(await redis.exists(`${keyPrefix}203.0.113.5`)).toBe(0);
  });

  it('owes Redis at most maxOwed calls while it does not answer, dropping the oldest', async () => {
    await server.stop();
    const keyPrefix = prefix();
    let n = 0;
    const throttle = createFailureThrottle({ redis, maxFailures: 5, windowMs: 60_000, keyPrefix, maxOwed: 2, newId: () => `owed-${++n}` });
    for (let i = 0; i < 3; i++) await throttle.decide('o', 'wrong');
    await up();

    await throttle.decide('o', 'right');
    // Paid in order: by the time the last is in Redis, any older one still owed would be too.
    await until(async () => (await redis.hexists(`${keyPrefix}o`, 'owed-3')) === 1);

    expect(await redis.hmget(`${keyPrefix}o`, 'n', 'owed-1', 'owed-2')).toEqual(['2', null, '1']);
  });

  it('drops what it owed Redis for a window that has ended: an old typo is not counted in a new window', async () => {
    await server.stop();
    const clock = new FakeClock();
    const keyPrefix = prefix();
    const throttle = createFailureThrottle({ redis, maxFailures: 3, windowMs: 60_000, keyPrefix, clock });
    await throttle.decide('e', 'wrong');
    await throttle.decide('e', 'wrong');
    await clock.advance(60_000);
    await up();

    // Anything paid after this reply is sent on this connection before the next command.
    const right = await throttle.decide('e', 'right');

    expect(right).toMatchObject({ blocked: false, attempts: 0, store: 'redis' });
    expect(await redis.exists(`${keyPrefix}e`)).toBe(0);
  });

  it('keeps a bounded table of clients', async () => {
    await server.stop();
    const throttle = createFailureThrottle({ redis, maxFailures: 1, windowMs: 60_000, keyPrefix: prefix(), maxLocalClients: 3 });

    for (const c of ['a', 'b', 'c', 'd']) await throttle.decide(c, 'wrong');

    expect((await throttle.peek('a')).blocked).toBe(false);
    expect(await Promise.all(['b', 'c', 'd'].map(async (c) => (await throttle.peek(c)).blocked))).toEqual([true, true, true]);
    await up();
  });
});

/** One script call a stand-in for Redis received; it waits until the test answers or fails it. */
interface Call {
  readonly script: 'decide' | 'settle' | 'giveBack';
  readonly client: string;
  /** What follows the key: window, limit, '1' for a wrong credential, reservation id, then the ids Redis is asked about. */
  readonly argv: readonly string[];
  open: boolean;
  /** Redis's reply: the count, the window left (ms), whether this one was counted, then the ids it holds. */
  answer(reply: unknown[]): void;
  fail(err: Error): void;
}

/**
 * A stand-in for the throttle's Redis connection that answers when the test says: each script call
 * waits, or is refused at once while `refusing` is set (as ioredis refuses while disconnected).
 */
function standIn(): { redis: Pick<Redis, 'eval'>; calls: Call[]; open(script?: Call['script']): Call[]; refusing: boolean } {
  const names = new Map<string, Call['script']>([
    [THROTTLE_SCRIPTS.decide, 'decide'],
    [THROTTLE_SCRIPTS.settle, 'settle'],
    [THROTTLE_SCRIPTS.giveBack, 'giveBack'],
  ]);
  const calls: Call[] = [];
  const stand = {
    calls,
    refusing: false,
    open: (script?: Call['script']) => calls.filter((c) => c.open && (script === undefined || c.script === script)),
    redis: {
      eval: (script: string, _keys: number, key: string, ...args: (string | number)[]) =>
        new Promise<unknown>((resolve, reject) => {
          const call: Call = {
            script: names.get(script)!,
            client: key.slice(DEFAULT_THROTTLE_KEY_PREFIX.length),
            argv: args.map(String),
            open: true,
            answer: (reply) => ((call.open = false), resolve(reply)),
            fail: (err) => ((call.open = false), reject(err)),
          };
          calls.push(call);
          if (stand.refusing) call.fail(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
        }),
    } as unknown as Pick<Redis, 'eval'>,
  };
  return stand;
}

describe('createFailureThrottle against a stand-in for Redis that answers when the test says', () => {
  it('logs once that it cannot reach Redis, with the driver code, and once that it counts in Redis again; a refused call is not sent again', async () => {
    const r = standIn();
    const logger = captureLogger();
    const throttle = createFailureThrottle({ redis: r.redis, logger, clock: new FakeClock() });
    r.refusing = true;

    // Refused: answered from memory at once (the fake clock never moves here).
    const refused = [await throttle.decide('1.1.1.1', 'right'), await throttle.decide('1.1.1.1', 'right')];
    expect(r.calls).toHaveLength(2);
    r.refusing = false;
    for (let i = 0; i < 2; i++) {
      const decision = throttle.decide('1.1.1.1', 'right');
      r.open()[0]!.answer([0, -2, 0]);
      await decision;
    }

    expect(refused.map((d) => d.store)).toEqual(['memory', 'memory']);
    expect(logger.lines.map((l) => [l.level, l.obj, l.msg])).toEqual([
      ['warn', { event: 'throttle.redis_unavailable', code: 'ECONNREFUSED' }, expect.stringMatching(/cannot reach Redis/)],
      ['info', { event: 'throttle.redis_recovered' }, expect.stringMatching(/counting in Redis again/)],
    ]);
  });

  it('waits for a silent Redis on one script call, then answers from memory and logs Redis unavailable (Timeout)', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const logger = captureLogger();
    const throttle = createFailureThrottle({ redis: r.redis, logger, clock, redisTimeoutMs: 250, guessTimeoutMs: 2_000 });

    let decision: Decision | undefined;
    void throttle.decide('1.1.1.2', 'right').then((d) => (decision = d));
    await clock.advance(1_999);
    expect(decision).toBeUndefined();
    await clock.advance(1);

    expect(decision?.store).toBe('memory');
    expect(r.calls).toHaveLength(1);
    expect(logger.lines.map((l) => [l.level, l.obj])).toEqual([['warn', { event: 'throttle.redis_unavailable', code: 'Timeout' }]]);
  });

  it('sends the script again when ioredis gave up on it (its commandTimeout), and takes that answer', async () => {
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, clock: new FakeClock() });

    const decision = throttle.decide('1.1.1.3', 'wrong');
    r.calls[0]!.fail(new Error('Command timed out'));
    await settle();
    expect(r.calls).toHaveLength(2);
    r.calls[1]!.answer([1, 600_000, 1]);

    expect(await decision).toMatchObject({ blocked: false, attempts: 1, store: 'redis' });
  });

  it('answers a request without a credential after one slice of a silent Redis: nothing was compared, so nothing to hide', async () => {
    const clock = new FakeClock();
    const throttle = createFailureThrottle({ redis: standIn().redis, clock, redisTimeoutMs: 250, guessTimeoutMs: 2_000 });

    let answeredAt = -1;
    void throttle.peek('1.1.1.4').then(() => (answeredAt = clock.now() - started));
    const started = clock.now();
    await clock.advance(2_000);

    expect(answeredAt).toBe(250);
  });

  it('makes a client with failures counted, but not locked out, wait for a slow Redis the full time, right token or wrong', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 10, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 2_000, clock });
    const first = throttle.decide('8.8.4.4', 'wrong');
    r.calls[0]!.answer([9, 60_000, 1]);
    expect(await first).toMatchObject({ blocked: false, remaining: 1 });

    // Redis answers late (after 1 s): another instance spent the last attempt meanwhile.
    const decisions = Promise.all([throttle.decide('8.8.4.4', 'right'), throttle.decide('8.8.4.4', 'wrong')]);
    await clock.advance(1_000);
    for (const call of r.open()) call.answer([10, 59_000, 0]);
    const [right, wrong] = await decisions;

    expect([right.blocked, right.store, wrong.blocked, wrong.store]).toEqual([true, 'redis', true, 'redis']);
  });

  it('answers a client its own memory locked out (Redis refused, now silent) after one slice, right token or wrong', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 2, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 2_000, clock });
    r.refusing = true;
    await throttle.decide('9.9.4.4', 'wrong');
    await throttle.decide('9.9.4.4', 'wrong');
    r.refusing = false;

    const answeredAt: Record<string, number> = {};
    const started = clock.now();
    for (const credential of ['right', 'wrong'] as const) void throttle.decide('9.9.4.4', credential).then((d) => (answeredAt[credential] = d.blocked ? clock.now() - started : -1));
    await clock.advance(2_000);

    expect(answeredAt).toEqual({ right: 250, wrong: 250 });
  });

  it('asks about a right token with no reservation, and reports a client without a count with a window that ends now', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, clock });

    const decision = throttle.decide('7.7.4.4', 'right');
    r.calls[0]!.answer([0, -2, 0]);

    expect(await decision).toEqual({ blocked: false, retryAfterSeconds: 0, attempts: 0, remaining: 10, store: 'redis', windowEndsAtMs: clock.now() });
    expect(r.calls[0]!.argv).toEqual(['600000', '10', '0', '', '0']);
  });

  it('ends the window it reports from Redis no sooner than that of a wrong token memory answered', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 10, windowMs: 60_000, clock });
    const t0 = clock.now();
    r.refusing = true;
    await throttle.decide('6.6.4.4', 'wrong'); // memory's window ends at t0 + 60 s
    r.refusing = false;
    await clock.advance(10_000);

    const decision = throttle.decide('6.6.4.4', 'right');
    r.open('decide')[0]!.answer([1, 30_000, 0]); // another instance's count, its window ends at t0 + 40 s

    expect(await decision).toMatchObject({ attempts: 2, store: 'redis', windowEndsAtMs: t0 + 60_000 });
  });

  it('keeps a client locked out in memory until Redis\'s window ends, when that is later than its own', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 2, windowMs: 60_000, clock });
    r.refusing = true;
    await throttle.decide('6.6.5.5', 'wrong'); // memory: 1 of 2, its window ends at t0 + 60 s
    r.refusing = false;
    await clock.advance(30_000);
    const second = throttle.decide('6.6.5.5', 'wrong');
    r.open('decide')[0]!.answer([1, 60_000, 1]); // Redis's window starts now: it ends at t0 + 90 s
    expect(await second).toMatchObject({ blocked: false, attempts: 2, remaining: 0 });

    // Redis is gone again after memory's own window ended: what Redis last said still holds.
    await clock.advance(40_000);
    r.refusing = true;

    expect(await throttle.decide('6.6.5.5', 'right')).toMatchObject({ blocked: true, retryAfterSeconds: 20, store: 'memory' });
  });

  it('forgets a client\'s window once Redis says its count is gone (the key deleted): a later count in memory starts a window of its own', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 2, windowMs: 60_000, clock });
    const t0 = clock.now();
    const first = throttle.decide('6.6.6.5', 'wrong');
    r.calls[0]!.answer([1, 60_000, 1]);
    await first;
    await clock.advance(30_000);
    const right = throttle.decide('6.6.6.5', 'right');
    r.calls[1]!.answer([0, -2, 0]);
    expect(await right).toMatchObject({ attempts: 0 });
    r.refusing = true;

    expect(await throttle.decide('6.6.6.5', 'wrong')).toMatchObject({ blocked: false, attempts: 1, store: 'memory', windowEndsAtMs: t0 + 90_000 });
  });

  it('makes room in its bounded table by dropping ended windows first, then the least recently seen', async () => {
    const clock = new FakeClock();
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 1, windowMs: 60_000, maxLocalClients: 2, clock });
    const lockedOutByRedis = async (client: string, windowLeftMs: number) => {
      const decision = throttle.decide(client, 'wrong');
      r.open('decide')[0]!.answer([1, windowLeftMs, 1]);
      await decision;
    };
    await lockedOutByRedis('a', 60_000);
    await lockedOutByRedis('b', 1_000);
    await clock.advance(1_000); // b's window has ended
    await lockedOutByRedis('c', 60_000);
    r.refusing = true;

    expect([(await throttle.peek('a')).blocked, (await throttle.peek('c')).blocked]).toEqual([true, true]);
  });

  it('grants a wrong token whose own answer was lost once a later reply shows Redis counted it, and counts it once', async () => {
    const clock = new FakeClock();
    const r = standIn();
    let n = 0;
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 5, windowMs: 60_000, redisTimeoutMs: 250, guessTimeoutMs: 500, clock, newId: () => `r${n++}` });
    const t0 = clock.now();
    r.refusing = true;
    await throttle.decide('5.5.4.4', 'wrong'); // r0: answered from memory, not settled yet
    r.refusing = false;
    const a = throttle.decide('5.5.4.4', 'wrong'); // r1
    const lost = throttle.decide('5.5.4.4', 'wrong'); // r2: its reply never comes
    r.open('decide')[0]!.answer([1, 60_000, 1]);
    expect(await a).toMatchObject({ blocked: false, attempts: 2 });

    const later = throttle.decide('5.5.4.4', 'wrong'); // r3
    const asked = r.open('decide').at(-1)!;
    // It asks about r0 (answered from memory, not settled) and r2 (still waiting), and nothing else.
    expect(asked.argv).toEqual(['60000', '5', '1', 'r3', '1', 'r0', 'r2']);
    asked.answer([3, 60_000, 1, 'r2']); // Redis holds r1, r2 and r3
    expect(await later).toMatchObject({ blocked: false, attempts: 4, remaining: 1 });
    await clock.advance(500);

    expect(await lost).toEqual({ blocked: false, retryAfterSeconds: 0, attempts: 4, remaining: 1, store: 'redis', windowEndsAtMs: t0 + 60_000 });
  });

  it('pays what it owes once, however many replies arrive while it pays', async () => {
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, clock: new FakeClock() });
    r.refusing = true;
    await throttle.decide('203.0.113.4', 'wrong');
    r.refusing = false;

    const both = [throttle.decide('203.0.113.9', 'right'), throttle.decide('203.0.113.9', 'right')];
    for (const call of r.open('decide')) call.answer([0, -2, 0]);
    await Promise.all(both);

    expect(r.calls.filter((c) => c.script === 'settle').map((c) => c.client)).toEqual(['203.0.113.4']);
  });

  it('keeps owing a settlement whose call failed, and sends it again after Redis\'s next reply', async () => {
    const r = standIn();
    const throttle = createFailureThrottle({ redis: r.redis, clock: new FakeClock(), newId: () => 'typo' });
    r.refusing = true;
    await throttle.decide('203.0.113.10', 'wrong'); // answered from memory: a settlement is owed
    r.refusing = false;
    const answeredOnce = async () => {
      const decision = throttle.decide('203.0.113.11', 'right');
      r.open('decide')[0]!.answer([0, -2, 0]);
      await decision;
    };

    await answeredOnce();
    r.open('settle')[0]!.fail(Object.assign(new Error('Connection is closed.'), { code: 'ECONNRESET' }));
    await settle();
    await answeredOnce();

    expect(r.open('settle').map((c) => [c.client, c.argv[3]])).toEqual([['203.0.113.10', 'typo']]);
  });

  it('goes on paying other clients\' settlements when an unlock drops the one in flight', async () => {
    const r = standIn();
    let n = 0;
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 3, clock: new FakeClock(), newId: () => `u${n++}` });
    r.refusing = true;
    await throttle.decide('203.0.113.1', 'wrong'); // u0
    await throttle.decide('203.0.113.2', 'wrong'); // u1
    r.refusing = false;
    const other = throttle.decide('203.0.113.3', 'right');
    r.open('decide')[0]!.answer([0, -2, 0]);
    await other;
    const inFlight = r.open('settle');
    expect(inFlight.map((c) => [c.client, c.argv[3]])).toEqual([['203.0.113.1', 'u0']]);

    expect(throttle.forget('203.0.113.1')).toBe(true);
    inFlight[0]!.answer([1, 600_000, 1, 'u0']);
    await settle();

    expect(r.open('settle').map((c) => [c.client, c.argv[3]])).toEqual([['203.0.113.2', 'u1']]);
  });

  it('forgets an IPv4 client in both its forms, and a client that is not an IP address by its name', async () => {
    const r = standIn();
    r.refusing = true;
    const throttle = createFailureThrottle({ redis: r.redis, maxFailures: 1, clock: new FakeClock() });
    await throttle.decide('::ffff:203.0.113.8', 'wrong');
    await throttle.decide('unknown', 'wrong');

    expect([throttle.forget('203.0.113.8'), throttle.forget('unknown')]).toEqual([true, true]);
    expect([(await throttle.peek('::ffff:203.0.113.8')).blocked, (await throttle.peek('unknown')).blocked]).toEqual([false, false]);
  });
});

/** Polls an asynchronous condition (a write this test cannot subscribe to), failing after 10 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
