import { afterEach, describe, expect, it } from 'vitest';
import {
  databaseSwitch,
  databaseUserOf,
  DATABASE_ID,
  reconnectRedisClients,
  redisSwitch,
  REDIS_ID,
  startCredentialWorld,
  startLoad,
  switchCounts,
  type CredentialWorld,
  type DatabaseForm,
  type Load,
  type Rotated,
} from '../service/support/credential-world.js';
import { waitFor } from '../service/support/wait-for.js';

/**
 * Database and Redis passwords rotated while two service instances (pools of 20) serve about
 * 200 queries a second and a steady stream of signed webhooks: by the CLI (with --notify) and by
 * Secrets Manager's RotateSecret calling the rotation function (with its Redis push). Each
 * strategy runs twice here (`npm run bench:reliability` runs ten of each and reports the
 * timings); every rotation must leave no failed query, no non-2xx webhook, every instance's new
 * connections on the new credentials and no session of the old login open.
 */
let world: CredentialWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

const ROTATIONS_PER_STRATEGY = 2;

type Rotate = (what: 'database' | 'redis', strategy?: 'single-user' | 'alternating-users') => Promise<Rotated>;

/** Waits until the load has sent `n` more queries: the pools are busy before, during and after each rotation. */
async function whileLoaded(load: Load, n: number): Promise<void> {
  const target = load.queriesSent() + n;
  await waitFor(() => load.queriesSent() >= target);
}

async function rotateUnderLoad(w: CredentialWorld, rotate: Rotate) {
  const load = startLoad(w.instances, { queriesPerSecond: 200, webhooksPerSecond: 20, redisCommandsPerSecond: 50 });
  const users: string[] = [];
  try {
    for (const strategy of ['single-user', 'alternating-users'] as const) {
      for (let i = 0; i < ROTATIONS_PER_STRATEGY; i++) {
        await whileLoaded(load, 40);
        const before = switchCounts(w);
        const rotated = await rotate('database', strategy);
        await databaseSwitch(w, rotated, before);
        users.push(databaseUserOf(await w.currentValue(DATABASE_ID)));
      }
    }
    for (let i = 0; i < ROTATIONS_PER_STRATEGY; i++) {
      await whileLoaded(load, 40);
      const rotated = await rotate('redis');
      await redisSwitch(w, rotated);
    }
    await whileLoaded(load, 40);
  } finally {
    const report = await load.stop();
    expect(report.failures).toEqual({});
    expect(report.queriesFailed).toBe(0);
    expect(report.webhooksNon2xx).toBe(0);
    expect(report.redisCommandsFailed).toBe(0);
    expect(report.queriesSent).toBeGreaterThan(280);
    expect(report.webhooksSent).toBeGreaterThan(20);
    expect(report.redisCommandsSent).toBeGreaterThan(50);
  }
  // Logged in again (after the load: commands fail fast while reconnecting), every connection gets in with the password its instance now holds.
  await reconnectRedisClients(w);
  return users;
}

function expectNoValueShown(w: CredentialWorld): void {
  const text = w.outputs();
  for (const v of w.values) expect(text).not.toContain(v);
}

describe('credential rotation under load', () => {
  it.each<[string, DatabaseForm]>([
    ['a URL', 'url'],
    ['the RDS JSON', 'json'],
  ])('rotates by the CLI with --notify with zero failures (DATABASE_URL as %s)', async (_form, form) => {
    const w = (world = await startCredentialWorld({ instances: 2, form }));

    const users = await rotateUnderLoad(w, (what, strategy) => w.rotateByCli(what === 'database' ? 'database-password' : 'redis-password', strategy));

    expect(users).toEqual(['app', 'app', 'app_clone', 'app']);
    expect(w.outputs()).toContain('Removed the old password: only the new one works now');
    expectNoValueShown(w);
  }, 180_000);

  it('rotates through RotateSecret and the rotation function with zero failures (DATABASE_URL as the RDS JSON)', async () => {
    const w = (world = await startCredentialWorld({ instances: 2, form: 'json' }));

    const users = await rotateUnderLoad(w, (what, strategy) => w.rotateByFunction(what === 'database' ? DATABASE_ID : REDIS_ID, strategy));

    expect(users).toEqual(['app', 'app', 'app_clone', 'app']);
    expect(w.outputs()).toContain('rotation.refresh_notice_published');
    expectNoValueShown(w);
  }, 180_000);
});
