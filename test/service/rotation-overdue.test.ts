import { describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { rotationDue, type SecretStatus } from '../../src/engine/index.js';
import { createLogger } from '../../src/service/logger.js';
import { ROTATION_OVERDUE_EVENT, rotationAges, watchRotationOverdue } from '../../src/service/rotation-overdue.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';

const DAY = 24 * 3_600_000;
const catalog = whatsappSaasCatalog();

/** Engine status as data: only `lastChanged` matters here. */
function statusWith(lastChanged: Record<string, number | null>) {
  const secrets: Record<string, Pick<SecretStatus, 'lastChanged'>> = {};
  for (const [name, ms] of Object.entries(lastChanged)) secrets[name] = { lastChanged: ms === null ? null : new Date(ms).toISOString() };
  return { secrets: secrets as Record<string, SecretStatus> };
}

describe('rotationAges', () => {
  it('reports secrets with a rotation period by age in days, overdue only past the period', () => {
    const now = Date.UTC(2026, 5, 1);

    const ages = rotationAges(catalog, statusWith({ ADMIN_TOKEN: now - 90 * DAY, META_APP_SECRET: now - 400 * DAY }), now);

    expect(ages).toEqual([{ name: 'ADMIN_TOKEN', rotateEveryDays: 90, ageDays: 90, overdue: false }]);
    expect(rotationAges(catalog, statusWith({ ADMIN_TOKEN: now - 90 * DAY - 1 }), now)[0]!.overdue).toBe(true);
  });

  it('agrees with rotationDue, the rule `secrets status` uses, at every boundary', () => {
    const now = Date.UTC(2026, 5, 1);
    for (const ageMs of [0, 76 * DAY, 90 * DAY, 90 * DAY + 1, 91 * DAY, 400 * DAY]) {
      const changed = new Date(now - ageMs).toISOString();
      const [age] = rotationAges(catalog, statusWith({ ADMIN_TOKEN: now - ageMs }), now);
      expect(age!.overdue).toBe(rotationDue(catalog.entry('ADMIN_TOKEN')!.spec.rotation, changed, now).state === 'overdue');
    }
  });

  it('leaves out a secret the engine has not loaded', () => {
    expect(rotationAges(catalog, statusWith({ ADMIN_TOKEN: null }), Date.now())).toEqual([]);
    expect(rotationAges(catalog, statusWith({}), Date.now())).toEqual([]);
  });
});

describe('watchRotationOverdue', () => {
  it('logs an overdue secret at start and every interval, by name and ages, until stopped', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    const engine = { status: () => statusWith({ ADMIN_TOKEN: clock.now() - 100 * DAY }) };

    const watch = watchRotationOverdue({ catalog, engine, logger, clock, intervalMs: 30 * 60_000 });
    await clock.advance(60 * 60_000);
    watch.stop();
    await clock.advance(60 * 60_000);

    expect(logger.lines.map((l) => [l.level, l.obj])).toEqual(
      Array(3).fill(['warn', { event: ROTATION_OVERDUE_EVENT, name: 'ADMIN_TOKEN', ageDays: 100, rotateEveryDays: 90 }]),
    );
    expect(clock.pending()).toEqual([]);
  });

  it('logs nothing while every rotation is on time', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    const engine = { status: () => statusWith({ ADMIN_TOKEN: clock.now() - 10 * DAY }) };

    const watch = watchRotationOverdue({ catalog, engine, logger, clock });
    await clock.advance(DAY);
    watch.stop();

    expect(logger.lines).toEqual([]);
  });

  it('writes a JSON line with the event name at the top level through the service logger', async () => {
    const chunks: string[] = [];
    const logger = createLogger({ level: 'info', secretValues: () => [], destination: { write: (s: string) => chunks.push(s) } });
    const clock = new FakeClock();

    watchRotationOverdue({ catalog, engine: { status: () => statusWith({ ADMIN_TOKEN: clock.now() - 100 * DAY }) }, logger, clock }).stop();

    expect(JSON.parse(chunks[0]!)).toMatchObject({ event: 'secrets.rotation_overdue', name: 'ADMIN_TOKEN', ageDays: 100 });
  });
});
