import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressForms, parseUnlockNotice, UNLOCK_CHANNEL, unlockAddress, unlockNoticeMessage } from '../../src/admin-lockout/unlock.js';
import { SHARED_REDIS_URL, whenRedisReady } from '../service/support/redis-server.js';

describe('addressForms', () => {
  it('gives an IPv4 address with its dual-stack form, an IPv6 one as is, and nothing for a name', () => {
    expect(addressForms('203.0.113.7')).toEqual(['203.0.113.7', '::ffff:203.0.113.7']);
    expect(addressForms('::FFFF:203.0.113.7')).toEqual(['203.0.113.7', '::ffff:203.0.113.7']);
    expect(addressForms('2001:DB8::1')).toEqual(['2001:db8::1']);
    expect(addressForms('admin.example.com')).toBeUndefined();
    expect(addressForms('10.0.0.0/8')).toBeUndefined();
  });

  it('takes an address with spaces around it as the address, and maps only the IPv4-mapped prefix to IPv4', () => {
    expect(addressForms(' 203.0.113.7\n')).toEqual(['203.0.113.7', '::ffff:203.0.113.7']);
    // An IPv6 address that merely ends like a mapped one is another host.
    expect(addressForms('2001:db8::ffff:203.0.113.7')).toEqual(['2001:db8::ffff:cb00:7107']);
  });

  it('gives every spelling of one IPv6 address the form a socket reports (RFC 5952), so any of them unlocks it', () => {
    for (const spelling of ['2001:DB8:0:0::1', '2001:db8::0:1', '2001:0db8:0000:0000:0000:0000:0000:0001']) {
      expect(addressForms(spelling)).toEqual(['2001:db8::1']);
    }
    for (const spelling of ['0::ffff:203.0.113.7', '0:0:0:0:0:ffff:203.0.113.7', '::ffff:cb00:7107', '::FFFF:CB00:7107']) {
      expect(addressForms(spelling)).toEqual(['203.0.113.7', '::ffff:203.0.113.7']);
    }
    // A zone names an interface: the same digits on another interface are another client.
    expect(addressForms('FE80::1%eth0')).toEqual(['fe80::1%eth0']);
  });
});

describe('parseUnlockNotice', () => {
  it('reads its own notices and ignores junk, other versions and non-addresses', () => {
    const notice = { address: '203.0.113.7', by: 'ops@host', at: '2026-01-01T00:00:00.000Z', keyPrefix: 'p:' };

    expect(parseUnlockNotice(unlockNoticeMessage(notice))).toEqual({ v: 1, ...notice });
    for (const junk of ['', 'not json', 'null', '[]', JSON.stringify({ ...notice, v: 2 }), JSON.stringify({ ...notice, v: 1, address: 'x' }), JSON.stringify({ v: 1, address: '1.2.3.4' }), 'x'.repeat(2_000)]) {
      expect(parseUnlockNotice(junk)).toBeUndefined();
    }
  });

  it('refuses, without throwing, a notice whose fields are not all strings', () => {
    const notice = { v: 1, address: '203.0.113.7', by: 'ops@host', at: '2026-01-01T00:00:00.000Z', keyPrefix: 'p:' };

    for (const field of ['address', 'by', 'at', 'keyPrefix']) {
      for (const wrong of [7, ['203.0.113.7'], null]) {
        expect(parseUnlockNotice(JSON.stringify({ ...notice, [field]: wrong }))).toBeUndefined();
      }
    }
  });

  it('reads a notice of up to 1024 characters, refuses a longer one, and cuts who and when to 200 and 40 characters', () => {
    const notice = { address: '203.0.113.7', by: 'ops@host', at: '2026-01-01T00:00:00.000Z', keyPrefix: '' };
    const ofLength = (length: number) => unlockNoticeMessage({ ...notice, keyPrefix: 'p'.repeat(length - unlockNoticeMessage(notice).length) });

    expect(ofLength(1024)).toHaveLength(1024);
    expect(parseUnlockNotice(ofLength(1024))?.keyPrefix).toHaveLength(1024 - unlockNoticeMessage(notice).length);
    expect(parseUnlockNotice(ofLength(1025))).toBeUndefined();
    expect(parseUnlockNotice(unlockNoticeMessage({ ...notice, by: 'b'.repeat(300), at: 'a'.repeat(60) }))).toMatchObject({ by: 'b'.repeat(200), at: 'a'.repeat(40) });
  });
});

describe('unlockAddress', () => {
  let redis: Redis;
  let listener: Redis;

  beforeAll(async () => {
    redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 0 });
    listener = new Redis(SHARED_REDIS_URL);
    await Promise.all([whenRedisReady(redis), whenRedisReady(listener)]);
  });

  afterAll(() => {
    redis.disconnect();
    listener.disconnect();
  });

  it('deletes both forms of the address, reports the count and time left, and publishes who unlocked it', async () => {
    const keyPrefix = `test-unlock:${randomBytes(6).toString('hex')}:`;
    await redis.hset(`${keyPrefix}203.0.113.7`, 'n', '10');
    await redis.pexpire(`${keyPrefix}203.0.113.7`, 300_000);
    await redis.set(`${keyPrefix}::ffff:203.0.113.7`, '4', 'PX', 100_000);
    const received: string[] = [];
    // The documented channel, spelled out: instances and CLIs of other versions listen and publish there.
    expect(UNLOCK_CHANNEL).toBe('admin-auth:unlock');
    listener.on('message', (ch: string, m: string) => ch === 'admin-auth:unlock' && received.push(m));
    await listener.subscribe('admin-auth:unlock');

    const result = await unlockAddress(redis, { address: '203.0.113.7', by: 'ops@host', now: () => Date.parse('2026-01-01T00:00:00Z'), keyPrefix });

    expect(result).toMatchObject({ address: '203.0.113.7', failures: 10, instancesNotified: expect.any(Number) });
    expect(result.remainingMs).toBeGreaterThan(200_000);
    expect(result.instancesNotified).toBeGreaterThanOrEqual(1);
    expect(await redis.exists(`${keyPrefix}203.0.113.7`, `${keyPrefix}::ffff:203.0.113.7`)).toBe(0);
    await new Promise<void>((resolve) => (received.length > 0 ? resolve() : listener.once('message', () => resolve())));
    expect(received.map((m) => parseUnlockNotice(m)).find((n) => n?.keyPrefix === keyPrefix)).toMatchObject({ address: '203.0.113.7', by: 'ops@host', at: '2026-01-01T00:00:00.000Z' });
  });

  it('refuses a name that is not an IP address before touching Redis', async () => {
    const calls: string[][] = [];
    const recording = { call: async (...args: string[]) => (calls.push(args), [0, -2, 0]) };

    await expect(unlockAddress(recording, { address: 'admin.example.com', by: 'ops@host', now: Date.now })).rejects.toThrow(new TypeError('not an IP address'));
    expect(calls).toEqual([]);
  });

  it('reports no count for an address that was not locked out', async () => {
    const keyPrefix = `test-unlock:${randomBytes(6).toString('hex')}:`;

    expect(await unlockAddress(redis, { address: '2001:db8::5', by: 'ops@host', now: Date.now, keyPrefix })).toMatchObject({ failures: 0, remainingMs: 0 });
  });
});
