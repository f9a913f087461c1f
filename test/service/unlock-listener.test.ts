import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlockNoticeMessage } from '../../src/admin-lockout/unlock.js';
import { createLogger } from '../../src/service/logger.js';
import { REDIS_CLIENT_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../../src/service/redis-connection.js';
import { listenForUnlocks } from '../../src/service/unlock-listener.js';
import { captureLogs } from './support/log-capture.js';
import { SHARED_REDIS_URL, whenRedisReady } from './support/redis-server.js';

describe('listenForUnlocks', () => {
  let publisher: Redis;
  let subscriber: Redis;

  beforeAll(async () => {
    publisher = new Redis(SHARED_REDIS_URL, REDIS_CLIENT_OPTIONS);
    subscriber = new Redis(SHARED_REDIS_URL, REDIS_SUBSCRIBER_OPTIONS);
    await Promise.all([whenRedisReady(publisher), whenRedisReady(subscriber)]);
  });

  afterAll(() => {
    publisher.disconnect();
    subscriber.disconnect();
  });

  it('forgets the address named by a notice for its prefix, logs who unlocked it, and ignores everything else', async () => {
    const channel = `test-unlock-channel:${randomBytes(6).toString('hex')}`;
    const keyPrefix = 'p:';
    const forgotten: string[] = [];
    const logs = captureLogs();
    const listener = listenForUnlocks({
      subscriber,
      throttle: { forget: (c) => (forgotten.push(c), c === '203.0.113.7') },
      keyPrefix,
      channel,
      logger: createLogger({ level: 'info', destination: logs.stream }),
    });
    await listener.start();
    const at = '2026-01-01T00:00:00.000Z';

    for (const message of ['junk', unlockNoticeMessage({ address: '198.51.100.1', by: 'x@y', at, keyPrefix: 'other:' }), unlockNoticeMessage({ address: '203.0.113.7', by: 'ops@host', at, keyPrefix })]) {
      await publisher.publish(channel, message);
    }
    await publisher.publish(`${channel}-elsewhere`, unlockNoticeMessage({ address: '198.51.100.2', by: 'x@y', at, keyPrefix }));
    // The last notice on this channel marks the end: everything before it has been handled.
    await new Promise<void>((resolve) => {
      const done = () => (forgotten.length > 0 ? resolve() : setTimeout(done, 5));
      done();
    });
    await listener.close();

    expect(forgotten).toEqual(['203.0.113.7']);
    expect(logs.lines().filter((l) => l.event === 'admin.unlocked')).toEqual([
      expect.objectContaining({ clientAddress: '203.0.113.7', by: 'ops@host', at, heldInMemory: true, level: 40 }),
    ]);
  });
});
