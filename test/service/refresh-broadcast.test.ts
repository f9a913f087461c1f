import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog, type WhatsappSaasSpec } from '../../src/catalog/whatsapp-saas.js';
import { createAwsSource, createEnvSource, createSecretsEngine, type RefreshOptions, type RefreshOutcome, type SecretsEngine } from '../../src/engine/index.js';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import type { FleetSize } from '../../src/service/fleet-size.js';
import {
  createRefreshBroadcast,
  DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND,
  expectedNoticeCalls,
  MAX_NOTICE_RETRIES,
  noticeSpreadMs,
  type NoticeResult,
  type RefreshBroadcast,
  type RefreshBroadcastOptions,
} from '../../src/service/refresh-broadcast.js';
import { REDIS_CLIENT_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../../src/service/redis-connection.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock, settle } from '../support/fake-clock.js';
import { createAll, localClient } from '../support/local-aws.js';
import { SHARED_REDIS_URL, startThrowawayRedis, whenRedisReady } from './support/redis-server.js';
import { SHARED_SERVER } from './support/postgres.js';
import { waitFor } from './support/wait-for.js';

const catalog = whatsappSaasCatalog();
const CHANNEL = 'secrets:refresh';
const at = '2026-01-01T00:00:00.000Z';
const notice = (names: string[], extra: Record<string, unknown> = {}) => JSON.stringify({ v: 1, origin: 'secrets-cli', reason: 'rotated', names, at, ...extra });

/** A subscriber connection that the test drives: `deliver` is a message arriving from Redis. */
class FakeSubscriber extends EventEmitter {
  subscribed: string[] = [];
  async subscribe(channel: string): Promise<number> {
    this.subscribed.push(channel);
    return 1;
  }
  async unsubscribe(): Promise<number> {
    return 0;
  }
  deliver(message: string, channel = CHANNEL): void {
    this.emit('message', channel, message);
  }
}

/** An engine whose refreshes the test finishes: each call is recorded with the names it asked for. */
function fakeEngine() {
  const calls: { names: readonly string[]; fresh: boolean | undefined; reason: string | undefined; finish: (outcome?: RefreshOutcome) => void }[] = [];
  return {
    calls,
    engine: {
      catalog,
      refresh(options: RefreshOptions<WhatsappSaasSpec>): Promise<RefreshOutcome> {
        return new Promise((resolve) => {
          calls.push({
            names: [...(options.names ?? [])].sort(),
            fresh: options.fresh,
            reason: options.reason,
            finish: (outcome = { ok: true, reason: 'notice', changed: [], failed: [] }) => resolve(outcome),
          });
        });
      },
    },
  };
}

function world(options: Partial<RefreshBroadcastOptions<WhatsappSaasSpec>> = {}) {
  const clock = new FakeClock();
  const subscriber = new FakeSubscriber();
  const { engine, calls } = fakeEngine();
  const results: NoticeResult[] = [];
  const logger = captureLogger();
  let randomValue = 0;
  const broadcast = createRefreshBroadcast({
    publisher: { publish: async () => 1 },
    subscriber: subscriber as never,
    engine,
    instanceId: 'me',
    channel: CHANNEL,
    clock,
    random: () => randomValue,
    onNotice: (r) => results.push(r),
    logger,
    ...options,
  });
  return { clock, subscriber, calls, results, logs: logger, broadcast, setRandom: (v: number) => (randomValue = v) };
}

describe('createRefreshBroadcast: notices', () => {
  it('refreshes the named secrets, fresh, through the engine, after the spread delay', async () => {
    const w = world({ spreadMs: 200 });
    await w.broadcast.start();
    w.setRandom(0.5);

    w.subscriber.deliver(notice(['ADMIN_TOKEN'], { versions: { ADMIN_TOKEN: 'v-2' } }));
    await w.clock.advance(99);
    const beforeSpread = w.calls.length;
    await w.clock.advance(1);

    expect(beforeSpread).toBe(0);
    expect(w.calls.map(({ names, fresh, reason }) => ({ names, fresh, reason }))).toEqual([{ names: ['ADMIN_TOKEN'], fresh: true, reason: 'notice' }]);
    expect(w.results).toEqual(['applied']);
  });

  it('refreshes without an onNotice observer too', async () => {
    const w = world({ spreadMs: 0, onNotice: undefined });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.clock.advance(0);

    expect(w.calls.map((c) => c.names)).toEqual([['ADMIN_TOKEN']]);
  });

  it('waits anywhere in [0, spreadMs], the whole window included', async () => {
    const w = world({ spreadMs: 250, minIntervalMs: 0 });
    await w.broadcast.start();

    w.setRandom(0.999_999);
    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.clock.advance(249);
    const early = w.calls.length;
    await w.clock.advance(1);

    expect(early).toBe(0);
    expect(w.calls).toHaveLength(1);
  });

  it('gathers a burst of notices into one refresh of the union of their names', async () => {
    const w = world({ spreadMs: 100 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    w.subscriber.deliver(notice(['META_VERIFY_TOKEN']));
    w.subscriber.deliver(notice(['ADMIN_TOKEN', 'DATABASE_URL']));
    await w.clock.advance(100);
    w.calls[0]?.finish();
    await w.clock.advance(60_000);

    expect(w.calls.map((c) => c.names)).toEqual([['ADMIN_TOKEN', 'DATABASE_URL', 'META_VERIFY_TOKEN']]);
    expect(w.results).toEqual(['applied', 'coalesced', 'coalesced']);
  });

  it('refreshes at most once per interval, with exactly one trailing refresh for what came meanwhile', async () => {
    const w = world({ spreadMs: 0, minIntervalMs: 5_000 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.clock.advance(0);
    w.calls[0]!.finish();
    for (let i = 0; i < 40; i++) {
      await w.clock.advance(100);
      w.subscriber.deliver(notice([i % 2 === 0 ? 'META_VERIFY_TOKEN' : 'OPENAI_API_KEY']));
    }
    const inWindow = w.calls.length;
    await w.clock.advance(999);
    const justBefore = w.calls.length;
    await w.clock.advance(1);
    w.calls[1]?.finish();
    await w.clock.advance(60_000);

    expect(inWindow).toBe(1);
    expect(justBefore).toBe(1);
    expect(w.calls.map((c) => c.names)).toEqual([['ADMIN_TOKEN'], ['META_VERIFY_TOKEN', 'OPENAI_API_KEY']]);
    expect(w.results.filter((r) => r === 'applied')).toHaveLength(1);
    expect(w.results.filter((r) => r === 'coalesced')).toHaveLength(40);
  });

  it('keeps the last notice that arrives while a refresh runs: one more refresh follows, after the interval', async () => {
    const w = world({ spreadMs: 0, minIntervalMs: 5_000 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.clock.advance(0);
    w.subscriber.deliver(notice(['ADMIN_TOKEN'], { reason: 'second rotation' }));
    await w.clock.advance(7_000); // the first refresh is slow: still running past the interval
    const whileRunning = w.calls.length;
    w.calls[0]!.finish();
    await w.clock.advance(0);

    expect(whileRunning).toBe(1);
    expect(w.calls.map((c) => c.names)).toEqual([['ADMIN_TOKEN'], ['ADMIN_TOKEN']]);
    expect(w.results).toEqual(['applied', 'coalesced']);
  });

  it('applies a notice at once again after a quiet interval', async () => {
    const w = world({ spreadMs: 0, minIntervalMs: 5_000 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.clock.advance(0);
    w.calls[0]!.finish();
    await w.clock.advance(5_000);
    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.clock.advance(0);

    expect(w.calls).toHaveLength(2);
    expect(w.results).toEqual(['applied', 'applied']);
  });

  it('ignores its own notices without counting them', async () => {
    const w = world({ spreadMs: 0 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN'], { origin: 'me' }));
    await w.clock.advance(60_000);

    expect(w.calls).toHaveLength(0);
    expect(w.results).toEqual([]);
  });

  it('ignores messages on other channels', async () => {
    const w = world({ spreadMs: 0 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']), 'another');
    await w.clock.advance(60_000);

    expect(w.calls).toHaveLength(0);
    expect(w.results).toEqual([]);
  });

  it('ignores and counts junk, and logs it at most once a minute without its content', async () => {
    const w = world({ spreadMs: 0 });
    await w.broadcast.start();
    const canary = 'CANARY-junk-content-7f3a';
    const junk = [
      `rotate please ${canary}`,
      JSON.stringify({ v: 1, origin: canary, reason: 'r', names: ['NOT_A_SECRET'], at }),
      JSON.stringify({ v: 2, origin: 'o', reason: 'r', names: ['ADMIN_TOKEN'], at }),
      JSON.stringify({ v: 1, origin: 'o', reason: 'r', names: ['ADMIN_TOKEN'], at, value: canary }),
      notice(['ADMIN_TOKEN'], { versions: { META_APP_SECRET: 'v1' } }),
      notice(['ADMIN_TOKEN'], { reason: 'x'.repeat(5_000) }),
      notice([], { versions: { ADMIN_TOKEN: 'v1' } }),
      notice(['ADMIN_TOKEN', 'ADMIN_TOKEN']),
      notice(['ADMIN_TOKEN'], { at: 'yesterday' }),
      '[]',
      'null',
    ];

    for (const m of junk) w.subscriber.deliver(m);
    await w.clock.advance(30_000);
    w.subscriber.deliver('more junk');
    await w.clock.advance(30_000);
    w.subscriber.deliver('junk after a minute');
    await w.clock.advance(60_000);

    expect(w.calls).toHaveLength(0);
    expect(w.results).toEqual(Array(junk.length + 2).fill('ignored-malformed'));
    const lines = w.logs.lines.filter((l) => l.obj.event === 'secrets.refresh_notice_ignored');
    expect(lines.map((l) => [l.obj.ignored, l.obj.ignoredTotal])).toEqual([
      [1, 1],
      [junk.length + 1, junk.length + 2],
    ]);
    expect(w.logs.text()).not.toContain(canary);
  });

  it('refreshes every secret after its subscriber reconnects, at most once per interval', async () => {
    const w = world({ spreadMs: 0, reconnectRefreshIntervalMs: 30_000 });
    await w.broadcast.start();

    w.subscriber.emit('ready');
    await w.clock.advance(0);
    w.calls[0]?.finish();
    await w.clock.advance(10_000);
    w.subscriber.emit('ready');
    await w.clock.advance(10_000);

    expect(w.calls.map((c) => c.names)).toEqual([catalog.entries.map((e) => e.name).sort()]);
    expect(w.results).toEqual([]);
  });

  it('publishes the typed notice, naming the secrets', async () => {
    const published: [string, string][] = [];
    const w = world({ publisher: { publish: async (c: string, m: string) => (published.push([c, m]), 1) } as never });

    const ok = await w.broadcast.publish('admin-refresh', ['ADMIN_TOKEN'], { ADMIN_TOKEN: 'v-9' });

    expect(ok).toBe(true);
    expect(published.map(([c, m]) => [c, JSON.parse(m)])).toEqual([
      [CHANNEL, { v: 1, origin: 'me', reason: 'admin-refresh', names: ['ADMIN_TOKEN'], versions: { ADMIN_TOKEN: 'v-9' }, at }],
    ]);
  });

  it('refuses to publish a name outside the catalog', async () => {
    const w = world();

    expect(await w.broadcast.publish('admin-refresh', ['NOT_A_SECRET'])).toBe(false);
  });

  it('does nothing once closed', async () => {
    const w = world({ spreadMs: 100 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['ADMIN_TOKEN']));
    await w.broadcast.close();
    await w.clock.advance(60_000);

    expect(w.calls).toHaveLength(0);
  });
});

// --- over real Redis -------------------------------------------------------------------------

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const store: Record<string, string | undefined> = {
  ADMIN_TOKEN: 'admin-token-one-0123456789abcdefghij',
  META_VERIFY_TOKEN: 'verify-token-one',
  META_APP_SECRET: 'app-secret-one-0123456789abcdefghijk',
  DATABASE_URL: `${SHARED_SERVER}/unused`,
  REDIS_URL: SHARED_REDIS_URL,
  OPENAI_API_KEY: 'sk-one',
};
const channelName = () => `test:secrets:refresh:${randomBytes(6).toString('hex')}`;

async function redisPair(url: string) {
  const publisher = new Redis(url, REDIS_CLIENT_OPTIONS);
  const subscriber = new Redis(url, REDIS_SUBSCRIBER_OPTIONS);
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  await whenRedisReady(publisher);
  cleanups.push(async () => {
    publisher.disconnect();
    subscriber.disconnect();
  });
  return { publisher, subscriber };
}

async function instance(channel: string, engine: SecretsEngine<WhatsappSaasSpec>, options: Partial<RefreshBroadcastOptions<WhatsappSaasSpec>> = {}, redisUrl = SHARED_REDIS_URL) {
  const { publisher, subscriber } = await redisPair(redisUrl);
  const broadcast: RefreshBroadcast = createRefreshBroadcast({ publisher, subscriber, engine, instanceId: randomBytes(4).toString('hex'), channel, ...options });
  await broadcast.start();
  cleanups.push(async () => {
    await broadcast.close();
    engine.close();
  });
  return broadcast;
}

async function envEngine(env = store) {
  const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source: createEnvSource({ env, envFilePath: null }) });
  await engine.initialize();
  return engine;
}

/** A fleet of a fixed size; `observed` records what publish reported. */
function fixedFleet(n: number): FleetSize & { observed: number[] } {
  const observed: number[] = [];
  return { size: async () => n, observe: (c) => void observed.push(c), observed };
}

describe('noticeSpreadMs and expectedNoticeCalls', () => {
  it('counts one call per named secret and one more for each that accepts a previous value', () => {
    expect(expectedNoticeCalls(catalog, new Set(['OPENAI_API_KEY']))).toBe(1);
    expect(expectedNoticeCalls(catalog, new Set(['ADMIN_TOKEN']))).toBe(2);
    expect(expectedNoticeCalls(catalog, new Set(['ADMIN_TOKEN', 'DATABASE_URL']))).toBe(3);
  });

  it('counts a full refresh as one call per secret: it says nothing of any one', () => {
    expect(expectedNoticeCalls(catalog, new Set(catalog.entries.map((e) => e.name)))).toBe(catalog.entries.length);
  });

  it('aims at a rate whose busiest second, four standard deviations up, is the budget', () => {
    for (const calls of [1, 2, 11]) {
      const windowMs = noticeSpreadMs(calls, 10_000, 5_000, 0);
      const rate = (calls * 10_000 * 1000) / windowMs;
      expect(rate + 4 * Math.sqrt(calls * rate)).toBeLessThanOrEqual(5_000);
      expect(rate + 4 * Math.sqrt(calls * rate)).toBeGreaterThan(4_990);
    }
  });

  it('spreads over calls × fleet ÷ rate, never under the floor, and a fleet of at least one', () => {
    expect(Math.abs(noticeSpreadMs(11, 10_000, 5_000, 250) - 2 * noticeSpreadMs(11, 5_000, 5_000, 250))).toBeLessThanOrEqual(1);
    expect(noticeSpreadMs(1, 10, 5_000, 250)).toBe(250);
    expect(noticeSpreadMs(1, 0, 5_000, 0)).toBe(noticeSpreadMs(1, 1, 5_000, 0));
    expect(noticeSpreadMs(2, 10_000, 5_000, 250)).toBeLessThan(4_500);
    expect(noticeSpreadMs(11, 10_000, 5_000, 250)).toBeLessThan(27_000);
  });

  it('keeps the default budget at half of the GetSecretValue quota', () => {
    expect(DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND).toBe(10_000 / 2);
  });
});

describe('createRefreshBroadcast: fleet-sized spread', () => {
  it('spreads a one-secret notice over calls × fleet ÷ budget when the fleet is large', async () => {
    const w = world({ spreadMs: 250, fleetSize: fixedFleet(10_000) });
    await w.broadcast.start();
    w.setRandom(0.999_999);
    const windowMs = noticeSpreadMs(2, 10_000, DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, 250);

    w.subscriber.deliver(notice(['ADMIN_TOKEN'], { versions: { ADMIN_TOKEN: 'v-2' } }));
    await w.clock.advance(windowMs - 1);
    const early = w.calls.length;
    await w.clock.advance(1);

    expect(windowMs).toBeGreaterThan(4_000);
    expect(early).toBe(0);
    expect(w.calls.map((c) => c.names)).toEqual([['ADMIN_TOKEN']]);
  });

  it('takes a configured budget: half the budget, twice the window', async () => {
    const w = world({ spreadMs: 0, fleetSize: fixedFleet(1_000), budgetPerSecond: 500 });
    await w.broadcast.start();
    w.setRandom(0.999_999);
    const windowMs = noticeSpreadMs(1, 1_000, 500, 0);

    w.subscriber.deliver(notice(['OPENAI_API_KEY']));
    await w.clock.advance(windowMs - 1);
    const early = w.calls.length;
    await w.clock.advance(1);

    expect(early).toBe(0);
    expect(w.calls).toHaveLength(1);
  });

  it('takes a notice that names no secrets as a full refresh, spread over one call per secret', async () => {
    const w = world({ spreadMs: 250, fleetSize: fixedFleet(10_000) });
    await w.broadcast.start();
    w.setRandom(0.999_999);
    const windowMs = noticeSpreadMs(catalog.entries.length, 10_000, DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, 250);

    w.subscriber.deliver(notice([]));
    await w.clock.advance(windowMs - 1);
    const early = w.calls.length;
    await w.clock.advance(1);

    expect(early).toBe(0);
    expect(w.calls.map((c) => c.names)).toEqual([catalog.entries.map((e) => e.name).sort()]);
    expect(w.results).toEqual(['applied']);
  });

  it('widens the window, keeping its place in it, when more names join a scheduled refresh', async () => {
    const w = world({ spreadMs: 0, fleetSize: fixedFleet(10_000) });
    await w.broadcast.start();
    w.setRandom(0.5);
    const oneMs = noticeSpreadMs(1, 10_000, DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, 0);
    const twoMs = noticeSpreadMs(2, 10_000, DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, 0);

    w.subscriber.deliver(notice(['OPENAI_API_KEY']));
    await w.clock.advance(10);
    w.subscriber.deliver(notice(['DATABASE_URL']));
    await w.clock.advance(Math.floor(0.5 * (oneMs + 1)) - 10);
    const atFirstPlace = w.calls.length;
    await w.clock.advance(Math.floor(0.5 * (twoMs + 1)) - Math.floor(0.5 * (oneMs + 1)));

    expect(atFirstPlace).toBe(0);
    expect(w.calls.map((c) => c.names)).toEqual([['DATABASE_URL', 'OPENAI_API_KEY']]);
  });

  it('reports the receivers of its own notice as the fleet size', async () => {
    const fleet = fixedFleet(1);
    const w = world({ publisher: { publish: async () => 42 }, fleetSize: fleet });

    await w.broadcast.publish('admin-refresh', ['ADMIN_TOKEN']);

    expect(fleet.observed).toEqual([42]);
  });
});

describe('createRefreshBroadcast: retries', () => {
  const throttled: RefreshOutcome = { ok: false, reason: 'notice', names: ['OPENAI_API_KEY'], code: 'ThrottlingException', transient: true };

  it('retries a throttled refresh at least 10 s later over a doubled window, at most MAX_NOTICE_RETRIES times', async () => {
    const w = world({ spreadMs: 1_000, minIntervalMs: 5_000 });
    await w.broadcast.start();
    w.setRandom(0.999_999);
    const starts: number[] = [];
    const t0 = w.clock.now();

    w.subscriber.deliver(notice(['OPENAI_API_KEY']));
    for (let i = 0; i < 200; i++) {
      await w.clock.advance(1_000);
      const open = w.calls.filter((_, n) => n >= starts.length);
      for (const c of open) {
        starts.push(w.clock.now() - t0);
        c.finish(throttled);
      }
    }

    expect(w.calls).toHaveLength(1 + MAX_NOTICE_RETRIES);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    // Each retry: 10 s after the last start, then its place (the end) in a window of 1 s × 2^failures.
    expect(gaps).toEqual([12_000, 14_000, 18_000]);
  });

  it('retries only the secrets that failed transiently, and stops after a success', async () => {
    const w = world({ spreadMs: 0, minIntervalMs: 0 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['OPENAI_API_KEY', 'DATABASE_URL']));
    await w.clock.advance(0);
    w.calls[0]!.finish({ ok: true, reason: 'notice', changed: [], failed: [{ name: 'DATABASE_URL', code: 'ThrottlingException', transient: true }] });
    await w.clock.advance(10_000);
    w.calls[1]?.finish();
    await w.clock.advance(60_000);

    expect(w.calls.map((c) => c.names)).toEqual([['DATABASE_URL', 'OPENAI_API_KEY'], ['DATABASE_URL']]);
  });

  it('does not retry a refresh that was denied', async () => {
    const w = world({ spreadMs: 0, minIntervalMs: 0 });
    await w.broadcast.start();

    w.subscriber.deliver(notice(['OPENAI_API_KEY']));
    await w.clock.advance(0);
    w.calls[0]!.finish({ ...throttled, code: 'AccessDeniedException', transient: false });
    await w.clock.advance(120_000);

    expect(w.calls).toHaveLength(1);
  });
});

describe('createRefreshBroadcast over Redis', () => {
  it('makes another instance use a rotated secret after a notice', async () => {
    const channel = channelName();
    const env = { ...store };
    const a = await instance(channel, await envEngine(env));
    const bEngine = await envEngine(env);
    const seen: NoticeResult[] = [];
    await instance(channel, bEngine, { onNotice: (r) => seen.push(r) });
    env.ADMIN_TOKEN = 'admin-token-two-0123456789abcdefghij';

    const published = await a.publish('test', ['ADMIN_TOKEN']);
    await waitFor(() => bEngine.accepted('ADMIN_TOKEN')[0] === 'admin-token-two-0123456789abcdefghij');

    expect(published).toBe(true);
    expect(seen).toEqual(['applied']);
  });

  it("moves the receiving instance's last refresh of any kind (a notice, by name) and the named secret's last read", async () => {
    const channel = channelName();
    const env = { ...store };
    const a = await instance(channel, await envEngine(env));
    const bEngine = await envEngine(env);
    await instance(channel, bEngine);
    const before = bEngine.status();
    env.ADMIN_TOKEN = 'admin-token-three-0123456789abcdefgh';

    await a.publish('test', ['ADMIN_TOKEN']);
    await waitFor(() => bEngine.status().lastAnyRefresh?.kind === 'names');

    const after = bEngine.status();
    expect(after.lastAnyRefresh).toMatchObject({ kind: 'names', reason: 'notice' });
    expect(Date.parse(after.lastAnyRefresh!.at)).toBeGreaterThanOrEqual(Date.parse(before.lastAnyRefresh!.at));
    expect(Date.parse(after.secrets.ADMIN_TOKEN!.lastRead!)).toBeGreaterThanOrEqual(Date.parse(before.secrets.ADMIN_TOKEN!.lastRead!));
    expect(after.lastRefresh).toBe(before.lastRefresh);
  });

  it('costs one GetSecretValue per named secret for 200 junk and 200 well-formed notices, never the batch call', async () => {
    const lsm = await startLocalSecretsManager({ port: 0 });
    cleanups.push(() => lsm.close());
    const client = localClient(lsm);
    await createAll(client, catalog, store as Record<string, string>);
    const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source: createAwsSource({ client, region: 'us-east-1' }) });
    await engine.initialize();
    const clock = new FakeClock();
    const results: NoticeResult[] = [];
    const channel = channelName();
    await instance(channel, engine, { clock, spreadMs: 250, minIntervalMs: 5_000, onNotice: (r) => results.push(r) });
    const { publisher } = await redisPair(SHARED_REDIS_URL);
    lsm.resetCounts();

    const burst = publisher.multi();
    for (let i = 0; i < 200; i++) {
      burst.publish(channel, i % 2 === 0 ? `junk ${i}` : JSON.stringify({ v: 1, origin: 'x', names: ['NOT_A_SECRET'], reason: 'r', at }));
      burst.publish(channel, JSON.stringify({ v: 1, origin: `sender-${i}`, reason: 'rotated', names: [i % 2 === 0 ? 'ADMIN_TOKEN' : 'META_VERIFY_TOKEN'], at }));
    }
    await burst.exec();
    await waitFor(() => results.length === 400);
    let refreshed = 0;
    engine.onRefresh((o) => o.reason === 'notice' && refreshed++);
    await clock.advance(250);
    await waitFor(() => refreshed === 1);
    await clock.advance(60_000);
    await settle();

    expect(results.filter((r) => r === 'ignored-malformed')).toHaveLength(200);
    expect(results.filter((r) => r === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r === 'coalesced')).toHaveLength(199);
    expect(refreshed).toBe(1);
    expect(lsm.counts()).toEqual({ GetSecretValue: 2 });
  });

  it('reports a notice as not published, without throwing, when Redis is down', async () => {
    const server = await startThrowawayRedis();
    const a = await instance(channelName(), await envEngine(), {}, server.url);
    await server.stop();

    const published = await a.publish('test', ['ADMIN_TOKEN']);

    expect(published).toBe(false);
  });

  it('refreshes after its subscriber reconnects, since it may have missed notices', async () => {
    const server = await startThrowawayRedis();
    const engine = await envEngine();
    let refreshes = 0;
    engine.onRefresh((o) => o.reason === 'notice' && refreshes++);
    await instance(channelName(), engine, { spreadMs: 0, reconnectRefreshIntervalMs: 0 }, server.url);

    await server.stop();
    await server.start();
    await waitFor(() => refreshes === 1, 20_000);

    expect(refreshes).toBe(1);
    await server.stop();
  });
});
