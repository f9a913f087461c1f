import { describe, expect, it } from 'vitest';
import type { ChangedSecret, RefreshOutcome } from '../../src/engine/index.js';
import { createReplicaVersionWait, DEFAULT_REPLICA_LAG_BOUND_MS } from '../../src/service/replica-version-wait.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';

const OLD = 'a1b2c3d4-0000-4000-8000-000000000001';
const NEW = 'a1b2c3d4-0000-4000-8000-000000000002';

const fromReplica = (changed: readonly ChangedSecret[] = []): RefreshOutcome => ({
  ok: true,
  reason: 'notice',
  names: ['ADMIN_TOKEN'],
  changed,
  failed: [],
  region: 'us-west-2',
  servedByReplica: true,
});
const fromPrimary: RefreshOutcome = { ok: true, reason: 'notice', names: ['ADMIN_TOKEN'], changed: [], failed: [], region: 'us-east-1', servedByReplica: false };

function world() {
  const clock = new FakeClock();
  const logger = captureLogger();
  const retries: string[][] = [];
  let held = OLD;
  const wait = createReplicaVersionWait({
    clock,
    random: () => 0,
    logger,
    retry: (names) => retries.push([...names]),
    held: () => held,
  });
  return { clock, logger, retries, wait, setHeld: (v: string) => (held = v) };
}

describe('createReplicaVersionWait', () => {
  it('leaves a failed refresh to the notice path\'s own retries: a throttled store gets no extra calls from here', async () => {
    const w = world();
    w.wait.expect({ ADMIN_TOKEN: NEW });

    w.wait.settled(['ADMIN_TOKEN'], { ok: false, reason: 'notice', names: ['ADMIN_TOKEN'], code: 'ThrottlingException', transient: true });
    await w.clock.advance(10_000);
    w.wait.settled(['ADMIN_TOKEN'], fromReplica());
    await w.clock.advance(1_000);

    expect(w.retries).toEqual([['ADMIN_TOKEN']]);
  });

  it('asks again, with growing delays, while the replica serves without the notice version', async () => {
    const w = world();
    w.wait.expect({ ADMIN_TOKEN: NEW });

    w.wait.settled(['ADMIN_TOKEN'], fromReplica());
    await w.clock.advance(500);
    w.wait.settled(['ADMIN_TOKEN'], fromReplica());
    const secondDelay = w.clock.pending()[0]! - w.clock.now();
    await w.clock.advance(1_000);

    expect(w.retries).toEqual([['ADMIN_TOKEN'], ['ADMIN_TOKEN']]);
    expect(secondDelay).toBe(1_000);
  });

  it('stops once the replica answers with the version', async () => {
    const w = world();
    w.wait.expect({ ADMIN_TOKEN: NEW });
    w.wait.settled(['ADMIN_TOKEN'], fromReplica());
    await w.clock.advance(500);

    w.wait.settled(['ADMIN_TOKEN'], fromReplica([{ name: 'ADMIN_TOKEN', versionId: NEW, previousVersionId: OLD }]));
    await w.clock.advance(60_000);

    expect(w.retries).toEqual([['ADMIN_TOKEN']]);
    expect(w.clock.pending()).toEqual([]);
  });

  it('stops when the primary answered: it is the truth', async () => {
    const w = world();
    w.wait.expect({ ADMIN_TOKEN: NEW });

    w.wait.settled(['ADMIN_TOKEN'], fromPrimary);
    await w.clock.advance(60_000);

    expect(w.retries).toEqual([]);
  });

  it('gives up past the bound with a warning that names the secret and version only', async () => {
    const w = world();
    w.wait.expect({ ADMIN_TOKEN: NEW });
    const startMs = w.clock.now();
    for (let i = 0; i < 20 && w.clock.now() - startMs <= DEFAULT_REPLICA_LAG_BOUND_MS + 8_000; i++) {
      w.wait.settled(['ADMIN_TOKEN'], fromReplica());
      await w.clock.advance(8_000);
    }

    const warning = w.logger.lines.find((l) => l.obj.event === 'secrets.replica_version_missing');
    expect(warning?.obj).toMatchObject({ name: 'ADMIN_TOKEN', versionId: NEW, region: 'us-west-2' });
    expect(w.retries.length).toBeGreaterThan(3);
    expect(w.retries.length).toBeLessThanOrEqual(DEFAULT_REPLICA_LAG_BOUND_MS / 500);
    expect(w.clock.pending()).toEqual([]);
  });

  it('does nothing for secrets no notice named a version of', async () => {
    const w = world();

    w.wait.settled(['ADMIN_TOKEN'], fromReplica());
    await w.clock.advance(10_000);

    expect(w.retries).toEqual([]);
  });

  it('cancels its retries when closed', async () => {
    const w = world();
    w.wait.expect({ ADMIN_TOKEN: NEW });
    w.wait.settled(['ADMIN_TOKEN'], fromReplica());

    w.wait.close();
    await w.clock.advance(10_000);

    expect(w.retries).toEqual([]);
  });
});
