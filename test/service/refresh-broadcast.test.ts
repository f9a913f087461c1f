import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createEnvSource, createSecretsEngine, type SecretsEngine } from '../../src/engine/index.js';
import { createRefreshBroadcast, type RefreshBroadcast } from '../../src/service/refresh-broadcast.js';
import { REDIS_CLIENT_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../../src/service/redis-connection.js';
import type { WhatsappSaasSpec } from '../../src/catalog/whatsapp-saas.js';
import { SHARED_REDIS_URL, startThrowawayRedis, whenRedisReady } from './support/redis-server.js';

interface Instance {
  engine: SecretsEngine<WhatsappSaasSpec>;
  broadcast: RefreshBroadcast;
  refreshes: () => number;
  /** What onNotice was told, in order. */
  notices: string[];
  close(): Promise<void>;
}

const store: Record<string, string | undefined> = {
  ADMIN_TOKEN: 'admin-token-one-0123456789abcdefghij',
  META_VERIFY_TOKEN: 'verify-token-one',
  META_APP_SECRET: 'app-secret-one-0123456789abcdefghijk',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/unused',
  REDIS_URL: SHARED_REDIS_URL,
  OPENAI_API_KEY: 'sk-one',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function instance(channel: string, redisUrl = SHARED_REDIS_URL, env = store): Promise<Instance> {
  const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source: createEnvSource({ env, envFilePath: null }) });
  await engine.initialize();
  let refreshes = 0;
  engine.onRefresh((o) => {
    if (o.reason === 'forced') refreshes++;
  });
  const publisher = new Redis(redisUrl, REDIS_CLIENT_OPTIONS);
  const subscriber = new Redis(redisUrl, REDIS_SUBSCRIBER_OPTIONS);
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  await whenRedisReady(publisher);
  const notices: string[] = [];
  const broadcast = createRefreshBroadcast({
    publisher,
    subscriber,
    engine,
    instanceId: randomBytes(4).toString('hex'),
    channel,
    debounceMs: 50,
    reconnectRefreshIntervalMs: 0,
    onNotice: (result) => notices.push(result),
  });
  await broadcast.start();
  const close = async () => {
    await broadcast.close();
    engine.close();
    publisher.disconnect();
    subscriber.disconnect();
  };
  cleanups.push(close);
  return { engine, broadcast, refreshes: () => refreshes, notices, close };
}

const notice = (reason: string) => JSON.stringify({ v: 1, origin: 'cli', reason, at: '' });
const channelName = () => `test:secrets:refresh:${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 2_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
  return Date.now() - started;
}

describe('createRefreshBroadcast', () => {
  it('makes another instance use a rotated secret within a second of the notice', async () => {
    const channel = channelName();
    const env = { ...store };
    const a = await instance(channel, SHARED_REDIS_URL, env);
    const b = await instance(channel, SHARED_REDIS_URL, env);
    env.ADMIN_TOKEN = 'admin-token-two-0123456789abcdefghij';

    const published = await a.broadcast.publish('test');
    const elapsedMs = await until(() => b.engine.accepted('ADMIN_TOKEN')[0] === 'admin-token-two-0123456789abcdefghij');

    expect(published).toBe(true);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('ignores its own notices (the publisher has refreshed already)', async () => {
    const channel = channelName();
    const a = await instance(channel);

    await a.broadcast.publish('test');
    await sleep(200);

    expect(a.refreshes()).toBe(0);
  });

  it('answers a burst of notices with one refresh', async () => {
    const channel = channelName();
    const b = await instance(channel);
    const publisher = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    await whenRedisReady(publisher);

    // One MULTI: the 25 notices reach the subscriber together, whatever the machine's speed.
    const burst = publisher.multi();
    for (let i = 0; i < 25; i++) burst.publish(channel, JSON.stringify({ v: 1, origin: `cli-${i}`, reason: 'burst', at: '' }));
    await burst.exec();
    await until(() => b.refreshes() === 1);
    await sleep(300);
    publisher.disconnect();

    expect(b.refreshes()).toBe(1);
  });

  it('ignores a message that is not a notice, and says so through onNotice', async () => {
    const channel = channelName();
    const b = await instance(channel);
    const publisher = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    await whenRedisReady(publisher);

    for (const junk of ['rotate please', '{"v":1}', '{"origin":"cli"}', '{"v":2,"origin":"cli"}', 'null', '[1]', '"text"']) await publisher.publish(channel, junk);
    await until(() => b.notices.length === 7);
    // A real notice after the junk: it alone causes a refresh.
    await publisher.publish(channel, JSON.stringify({ v: 1, origin: 'cli', reason: 'after-junk', at: '' }));
    await until(() => b.refreshes() === 1);
    publisher.disconnect();

    expect(b.notices).toEqual([...Array(7).fill('ignored-malformed'), 'applied']);
    expect(b.refreshes()).toBe(1);
  });

  it('tells onNotice applied for the notice that schedules a refresh and coalesced for those that join it', async () => {
    const channel = channelName();
    const b = await instance(channel);
    const publisher = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    await whenRedisReady(publisher);

    const burst = publisher.multi();
    for (let i = 0; i < 5; i++) burst.publish(channel, JSON.stringify({ v: 1, origin: `cli-${i}`, reason: 'burst', at: '' }));
    await burst.exec();
    await until(() => b.refreshes() === 1);
    publisher.disconnect();

    expect(b.notices).toEqual(['applied', 'coalesced', 'coalesced', 'coalesced', 'coalesced']);
  });

  it('does not tell onNotice about its own notices', async () => {
    const channel = channelName();
    const a = await instance(channel);
    const b = await instance(channel);

    await a.broadcast.publish('test');
    await until(() => b.notices.length === 1);

    expect(a.notices).toEqual([]);
    expect(b.notices).toEqual(['applied']);
  });

  it('refreshes once more when a notice arrives during a refresh', async () => {
    const channel = channelName();
    let releaseLoad!: () => void;
    let slow = false;
    const b = await instance(channel);
    const publisher = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    await whenRedisReady(publisher);
    const originalRefresh = b.engine.refresh.bind(b.engine);
    b.engine.refresh = async () => {
      if (slow) await new Promise<void>((r) => (releaseLoad = r));
      return originalRefresh();
    };

    slow = true;
    await publisher.publish(channel, notice('first'));
    await sleep(120);
    await publisher.publish(channel, notice('second'));
    await publisher.publish(channel, notice('third'));
    await sleep(50);
    slow = false;
    releaseLoad();
    await until(() => b.refreshes() === 2);
    await sleep(200);
    publisher.disconnect();

    expect(b.refreshes()).toBe(2);
    // The second notice asked for the one more refresh; the third joined it.
    expect(b.notices).toEqual(['applied', 'applied', 'coalesced']);
  });

  it('reports a notice as not published, without throwing, when Redis is down', async () => {
    const server = await startThrowawayRedis();
    const a = await instance(channelName(), server.url);
    await server.stop();
    await sleep(50);

    const started = Date.now();
    const published = await a.broadcast.publish('test');

    expect(published).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refreshes after its subscriber reconnects, since it may have missed notices', async () => {
    const server = await startThrowawayRedis();
    const b = await instance(channelName(), server.url);

    await server.stop();
    await sleep(100);
    await server.start();
    const elapsedMs = await until(() => b.refreshes() === 1, 5_000);

    expect(elapsedMs).toBeLessThan(5_000);
    await server.stop();
  });
});
