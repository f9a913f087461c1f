import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createFleetSize } from '../../src/service/fleet-size.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { SHARED_REDIS_URL, whenRedisReady } from './support/redis-server.js';

const open: Redis[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.disconnect();
});

async function connect(): Promise<Redis> {
  const c = new Redis(SHARED_REDIS_URL, { lazyConnect: false });
  open.push(c);
  await whenRedisReady(c);
  return c;
}

/** `n` subscriber connections on the channel, as n service instances keep. */
async function subscribers(channel: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await (await connect()).subscribe(channel);
}

describe('createFleetSize', () => {
  it('counts the subscribers of the refresh channel with PUBSUB NUMSUB', async () => {
    const channel = `test:fleet-size:${randomBytes(6).toString('hex')}`;
    await subscribers(channel, 3);
    const fleet = createFleetSize({ redis: await connect(), channel, clock: new FakeClock() });

    expect(await fleet.size()).toBe(3);
  });

  it('answers from its last count within the max age, and counts again after it', async () => {
    const channel = `test:fleet-size:${randomBytes(6).toString('hex')}`;
    const clock = new FakeClock();
    await subscribers(channel, 2);
    const fleet = createFleetSize({ redis: await connect(), channel, clock, maxAgeMs: 30_000 });
    const first = await fleet.size();

    await subscribers(channel, 2);
    await clock.advance(29_999);
    const cached = await fleet.size();
    await clock.advance(1);
    const recounted = await fleet.size();

    expect([first, cached, recounted]).toEqual([2, 2, 4]);
  });

  it('counts a channel nobody listens on as a fleet of one (this instance)', async () => {
    const fleet = createFleetSize({ redis: await connect(), channel: `test:fleet-size:${randomBytes(6).toString('hex')}`, clock: new FakeClock() });

    expect(await fleet.size()).toBe(1);
  });

  it('keeps the last count, and says so by code, when Redis does not answer', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    let answer: () => Promise<unknown[]> = async () => ['c', 7];
    const fleet = createFleetSize({ redis: { pubsub: (() => answer()) as never }, channel: 'c', clock, logger, maxAgeMs: 1_000 });
    const first = await fleet.size();

    answer = () => Promise.reject(Object.assign(new Error('gone'), { code: 'ECONNREFUSED' }));
    await clock.advance(1_000);
    const afterFailure = await fleet.size();

    expect([first, afterFailure]).toEqual([7, 7]);
    expect(logger.lines.map((l) => [l.obj.event, l.obj.code])).toEqual([['secrets.fleet_size_unknown', 'ECONNREFUSED']]);
  });

  it('takes an observed count (the receivers of a PUBLISH) as a fresh count', async () => {
    const clock = new FakeClock();
    let asked = 0;
    const fleet = createFleetSize({ redis: { pubsub: (async () => (asked++, ['c', 1])) as never }, channel: 'c', clock });

    fleet.observe(500);
    fleet.observe(0);

    expect(await fleet.size()).toBe(500);
    expect(asked).toBe(0);
  });

  it('asks Redis once for callers that need a count at the same time', async () => {
    let asked = 0;
    const fleet = createFleetSize({ redis: { pubsub: (async () => (asked++, ['c', 9])) as never }, channel: 'c', clock: new FakeClock() });

    const sizes = await Promise.all([fleet.size(), fleet.size(), fleet.size()]);

    expect(sizes).toEqual([9, 9, 9]);
    expect(asked).toBe(1);
  });
});
