/**
 * Credential rotation under load (part of `npm run bench:reliability`): the database password
 * (single-user and alternating-users) and the Redis password, rotated ten times each while three
 * in-process service instances (pools of 20, live REDIS_URL, refresh notices over Redis) serve
 * about 200 queries, 20 signed webhooks and 50 Redis commands a second, by both paths: the CLI
 * (`secrets rotate ... --notify`, DATABASE_URL as a URL) and Secrets Manager's RotateSecret
 * calling the rotation function (DATABASE_URL as the RDS JSON, the function's Redis push).
 *
 * Per rotation it measures, from the moment AWSCURRENT moved: when every instance's new
 * connections log in with the new credentials (PostgreSQL: its pool replaced; Redis: its
 * connections hold the new password for their next login, open ones staying logged in as the
 * same user), and when no PostgreSQL session of the old login is left on the server. Uses the throwaway PostgreSQL and Redis of the tests (test/service/support).
 *
 * Rotations of a row are spaced by the refresh notices' rate limit (SECRETS_NOTICE_INTERVAL_MS,
 * 5 s): an instance applies at most one notice-driven refresh per interval, and a notice inside
 * it waits for the trailing refresh, so back-to-back rotations (seconds apart, where real ones are
 * days apart) would measure that wait rather than the rotation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_NOTICE_INTERVAL_MS } from '../src/service/refresh-broadcast.js';
import {
  databaseSwitch,
  DATABASE_ID,
  redisSwitch,
  REDIS_ID,
  startCredentialWorld,
  startLoad,
  switchCounts,
  type CredentialWorld,
  type LoadReport,
  type Rotated,
} from '../test/service/support/credential-world.js';

export interface CredentialScenarioResult {
  readonly path: 'cli' | 'function';
  readonly what: string;
  readonly rotations: number;
  readonly load: LoadReport;
  /** ms after AWSCURRENT moved until every instance's new connections used the new credentials. */
  readonly newConnectionsMs: number[];
  /** ms after AWSCURRENT moved until no connection of the old login was left anywhere. */
  readonly everyInstanceMs: number[];
}

const INSTANCES = 3;

export async function runCredentialScenarios(rotations: number, paths: readonly ('cli' | 'function')[] = ['cli', 'function']): Promise<CredentialScenarioResult[]> {
  const results: CredentialScenarioResult[] = [];
  for (const path of paths) {
    const world = await startCredentialWorld({ instances: INSTANCES, form: path === 'cli' ? 'url' : 'json' });
    const worldRotated = { done: false };
    try {
      for (const strategy of ['single-user', 'alternating-users'] as const) {
        results.push(
          await scenario(world, path, `database-password ${strategy}`, rotations, worldRotated, async () => {
            const before = switchCounts(world);
            const rotated = path === 'cli' ? await world.rotateByCli('database-password', strategy) : await world.rotateByFunction(DATABASE_ID, strategy);
            return databaseSwitch(world, rotated, before, 60_000);
          }),
        );
      }
      results.push(
        await scenario(world, path, 'redis-password', rotations, worldRotated, async () => {
          const rotated: Rotated = path === 'cli' ? await world.rotateByCli('redis-password') : await world.rotateByFunction(REDIS_ID);
          // A password change needs no reconnect: from then on every login of every instance uses the new one.
          const ms = await redisSwitch(world, rotated, 60_000);
          return { newConnectionsMs: ms, everyInstanceMs: ms };
        }),
      );
    } finally {
      await world.close();
    }
  }
  return results;
}

async function scenario(
  world: CredentialWorld,
  path: 'cli' | 'function',
  what: string,
  rotations: number,
  worldRotated: { done: boolean },
  rotateOnce: () => Promise<{ newConnectionsMs: number; everyInstanceMs: number }>,
): Promise<CredentialScenarioResult> {
  const load = startLoad(world.instances, { queriesPerSecond: 200, webhooksPerSecond: 20, redisCommandsPerSecond: 50 });
  const newConnectionsMs: number[] = [];
  const everyInstanceMs: number[] = [];
  try {
    for (let i = 0; i < rotations; i++) {
      // Also before a row's first: the row before rotated the same world's instances. Not before
      // the world's very first rotation: no notice came before it.
      if (worldRotated.done) await sleep(DEFAULT_NOTICE_INTERVAL_MS + 500);
      worldRotated.done = true;
      const t = await rotateOnce();
      newConnectionsMs.push(t.newConnectionsMs);
      everyInstanceMs.push(t.everyInstanceMs);
    }
  } catch (err) {
    await load.stop();
    throw err;
  }
  return { path, what, rotations, load: await load.stop(), newConnectionsMs, everyInstanceMs };
}
