import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/engine/index.js';
import {
  followRedisCredentials,
  isRedisAuthError,
  REDIS_CLIENT_OPTIONS,
  REDIS_SUBSCRIBER_OPTIONS,
  redisTarget,
  redisTargetOptions,
} from '../../src/service/redis-connection.js';
import { aclUserUrl, redisAdminCommand, setAclUser, startThrowawayRedis, whenRedisReady, type ThrowawayRedis } from './support/redis-server.js';
import { waitFor } from './support/wait-for.js';


describe('REDIS_URL parsing', () => {
  it('reads an ACL user, password, database and TLS from the URL', () => {
    expect(redisTarget('rediss://app:p%40ss%2Fword@cache.internal:6380/3')).toEqual({
      host: 'cache.internal',
      port: 6380,
      username: 'app',
      password: 'p@ss/word',
      db: 3,
      tls: true,
    });
    expect(redisTarget('redis://:only-password@127.0.0.1')).toMatchObject({ username: undefined, password: 'only-password', port: 6379, db: 0, tls: false });
  });

  it('refuses a URL it cannot use without quoting it', () => {
    const canary = 'canary-redis-pass-8c1d';

    for (const url of [`http://u:${canary}@h`, `redis://u:${canary}@h/notanumber`, `${canary}`]) {
      let message = '';
      try {
        redisTarget(url);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^REDIS_URL /);
      expect(message).not.toContain(canary);
    }
  });

  it('tells authentication refusals from other errors', () => {
    expect(isRedisAuthError(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toBe(true);
    expect(isRedisAuthError(new Error('NOAUTH Authentication required.'))).toBe(true);
    expect(isRedisAuthError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
  });
});

describe('a Redis client following REDIS_URL (ACL user with password)', () => {
  const ADMIN = `redis-admin-${randomBytes(8).toString('hex')}`;
  const USER = 'svc_app';
  let server: ThrowawayRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await startThrowawayRedis({ password: ADMIN });
    await setAclUser(server, ADMIN, USER, { add: ['pw-one-0001'] });
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  function connect(url: string, options = REDIS_CLIENT_OPTIONS): Redis {
    const client = new Redis({ ...options, ...redisTargetOptions(redisTarget(url)) });
    client.on('error', () => {});
    clients.push(client);
    return client;
  }

  it('takes a new password without reconnecting: the open connection stays, the next one logs in with it', async () => {
    let url = aclUserUrl(server, USER, 'pw-one-0001');
    const client = connect(url);
    await whenRedisReady(client);
    const follower = followRedisCredentials(client, 'commands', { url: () => url, logger: silentLogger });
    const idBefore = await client.client('ID');

    await setAclUser(server, ADMIN, USER, { add: ['pw-two-0002'] });
    url = aclUserUrl(server, USER, 'pw-two-0002');
    follower.apply();
    // The old password goes; the open connection is still logged in, and a forced reconnect gets in with the new one.
    await setAclUser(server, ADMIN, USER, { remove: ['pw-one-0001'] });

    expect(await client.client('ID')).toBe(idBefore);
    await redisAdminCommand(server, ADMIN, 'CLIENT', 'KILL', 'USER', USER);
    await waitFor(async () => client.status === 'ready' && (await client.client('ID')) !== idBefore);
    expect(await client.call('ACL', 'WHOAMI')).toBe(USER);
  });

  it('moves a live connection to another user: same client object, new connection', async () => {
    await setAclUser(server, ADMIN, `${USER}-b`, { add: ['pw-b-0003'] });
    let url = aclUserUrl(server, USER, 'pw-two-0002');
    const client = connect(url);
    await whenRedisReady(client);
    const follower = followRedisCredentials(client, 'commands', { url: () => url, logger: silentLogger });
    const idBefore = await client.client('ID');

    url = aclUserUrl(server, `${USER}-b`, 'pw-b-0003');
    follower.apply();

    await waitFor(async () => client.status === 'ready' && (await client.client('ID')) !== idBefore);
    expect(await client.call('ACL', 'WHOAMI')).toBe(`${USER}-b`);
  });

  it('asks for the secret again on WRONGPASS and reconnects with the new one', async () => {
    await setAclUser(server, ADMIN, USER, { add: ['pw-three-0003'] });
    let cached = aclUserUrl(server, USER, 'pw-three-0003');
    const client = connect(cached);
    await whenRedisReady(client);
    let refreshes = 0;
    const stored = aclUserUrl(server, USER, 'pw-four-0004');
    followRedisCredentials(client, 'commands', {
      url: () => cached,
      credentials: {
        refresh: async () => {
          refreshes++;
          cached = stored;
        },
      },
      logger: silentLogger,
    });

    // An outside change: the password moves on at Redis and in the secret; open connections are cut.
    await setAclUser(server, ADMIN, USER, { add: ['pw-four-0004'], remove: ['pw-two-0002', 'pw-three-0003'] });
    await redisAdminCommand(server, ADMIN, 'CLIENT', 'KILL', 'USER', USER);

    await waitFor(async () => client.status === 'ready' && (await client.ping()) === 'PONG');
    expect(refreshes).toBeGreaterThan(0);
  });

  it('keeps a subscriber subscribed across a password change, and across a reconnect that logs in with the new password', async () => {
    let url = aclUserUrl(server, USER, 'pw-four-0004');
    const subscriber = connect(url, REDIS_SUBSCRIBER_OPTIONS);
    let readyCount = 0;
    subscriber.on('ready', () => readyCount++);
    await whenRedisReady(subscriber);
    const channel = `test:follow:${randomBytes(4).toString('hex')}`;
    const received: string[] = [];
    subscriber.on('message', (_ch, message) => received.push(message));
    await subscriber.subscribe(channel);
    const follower = followRedisCredentials(subscriber, 'subscriber', { url: () => url, logger: silentLogger });
    const readyBefore = readyCount;

    await setAclUser(server, ADMIN, USER, { add: ['pw-five-0005'] });
    url = aclUserUrl(server, USER, 'pw-five-0005');
    follower.apply();
    await setAclUser(server, ADMIN, USER, { remove: ['pw-four-0004'] });
    await redisAdminCommand(server, ADMIN, 'PUBLISH', channel, 'after-switch');
    await waitFor(() => received.includes('after-switch'));
    expect(readyCount).toBe(readyBefore);

    await redisAdminCommand(server, ADMIN, 'CLIENT', 'KILL', 'USER', USER);
    await waitFor(() => readyCount > readyBefore);
    await waitFor(async () => {
      await redisAdminCommand(server, ADMIN, 'PUBLISH', channel, 'after-reconnect');
      return received.includes('after-reconnect');
    });
    expect(received).toContain('after-reconnect');
  });
});

describe('the command connection (REDIS_CLIENT_OPTIONS)', () => {
  let server: ThrowawayRedis;

  beforeAll(async () => {
    server = await startThrowawayRedis();
  });

  afterAll(async () => {
    await server.stop();
  });

  // The client's own timeout only has to catch a server that stopped answering: every caller on
  // the request path bounds its own wait (throttle 250 ms, health 1 s, publish 500 ms) and carries
  // on without Redis. Tighter than the stalls a loaded host causes, it failed commands Redis had
  // answered (the rotation-under-load test saw "Command timed out" with two CPU hogs running).
  it('does not fail a command that Redis answered while this process was busy for a second', async () => {
    const client = new Redis(server.url, REDIS_CLIENT_OPTIONS);
    client.on('error', () => {});
    try {
      await whenRedisReady(client);
      const reply = client.ping();
      // A bounded busy second: the event loop stalls, as it does on a loaded machine, while Redis answers.
      const until = performance.now() + 1_000;
      while (performance.now() < until);

      expect(await reply).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
