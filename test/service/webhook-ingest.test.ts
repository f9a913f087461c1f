import { describe, expect, it } from 'vitest';
import { WebhookOverloadedError } from '../../src/service/errors.js';
import { WebhookIngest } from '../../src/service/webhook-ingest.js';
import type { WebhookEvent } from '../../src/service/webhook-event-store.js';

/** A database whose INSERTs wait until the test settles them, recording each group's ids. */
function heldDatabase() {
  const groups: { ids: string[]; settle: (err?: Error) => void }[] = [];
  return {
    groups,
    query: (_text: string, values?: unknown[]) =>
      new Promise<never>((resolve, reject) => {
        const ids = (values as string[][])[0]!;
        groups.push({ ids, settle: (err) => (err ? reject(err) : resolve({ rows: ids.map((id) => ({ id })) } as never)) });
      }),
  };
}

const event = (id: string, bytes = 10): WebhookEvent => ({ id, object: null, body: Buffer.alloc(bytes, 0x20), signedWith: 'current' });
const tick = () => new Promise((r) => setImmediate(r));

describe('WebhookIngest', () => {
  it('sends a delivery at once while a writer is free, and groups the ones that arrive while all are busy', async () => {
    const db = heldDatabase();
    const ingest = new WebhookIngest(db, { groupsInFlight: 2, maxGroup: 3 });

    const results = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ingest.submit(event(id)));
    await tick();
    expect(db.groups.map((g) => g.ids)).toEqual([['a'], ['b']]);
    expect(ingest.stats()).toMatchObject({ waiting: 4, writing: 2 });

    db.groups[0]!.settle();
    await tick();
    expect(db.groups.map((g) => g.ids)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);
    db.groups[1]!.settle();
    await tick();
    db.groups[2]!.settle();
    await tick();
    db.groups[3]!.settle();

    expect(await Promise.all(results)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored', 'stored']);
    expect(db.groups.map((g) => g.ids)).toEqual([['a'], ['b'], ['c', 'd', 'e'], ['f']]);
    expect(ingest.stats()).toMatchObject({ waiting: 0, writing: 0, groupsCommitted: 4, groupsFailed: 0 });
  });

  it('keeps a group within maxGroupBytes, and sends a larger event alone', async () => {
    const db = heldDatabase();
    const ingest = new WebhookIngest(db, { groupsInFlight: 1, maxGroupBytes: 100 });
    const first = ingest.submit(event('first'));
    const rest = [event('a', 60), event('b', 40), event('c', 1), event('huge', 500), event('d', 1)].map((e) => ingest.submit(e));

    for (let i = 0; i < 5; i++) {
      await tick();
      db.groups[i]!.settle();
    }
    await Promise.all([first, ...rest]);

    expect(db.groups.map((g) => g.ids)).toEqual([['first'], ['a', 'b'], ['c'], ['huge'], ['d']]);
  });

  it('fails exactly the members of a failed group with its error, and goes on with the next', async () => {
    const db = heldDatabase();
    const ingest = new WebhookIngest(db, { groupsInFlight: 1 });
    const first = ingest.submit(event('x')).catch((err: unknown) => err);
    const second = ['y', 'z'].map((id) => ingest.submit(event(id)));
    const boom = new Error('group failed');

    await tick();
    db.groups[0]!.settle(boom);
    await tick();
    db.groups[1]!.settle();

    expect(await first).toBe(boom);
    expect(await Promise.all(second)).toEqual(['stored', 'stored']);
    expect(ingest.stats()).toMatchObject({ groupsFailed: 1, groupsCommitted: 1 });
  });

  it('refuses at once, with the Retry-After seconds, when maxPending events are waiting or being written', async () => {
    const db = heldDatabase();
    const ingest = new WebhookIngest(db, { maxPending: 2, groupsInFlight: 1, retryAfterSeconds: 3 });
    const held = [ingest.submit(event('p')), ingest.submit(event('q'))];

    const refused = await ingest.submit(event('r')).catch((err: unknown) => err);

    expect(refused).toBeInstanceOf(WebhookOverloadedError);
    expect(refused).toMatchObject({ code: 'OVERLOADED', retryAfterSeconds: 3 });
    expect(ingest.stats()).toMatchObject({ refused: 1, waiting: 1, writing: 1 });
    await tick();
    db.groups[0]!.settle();
    await tick();
    db.groups[1]!.settle();
    expect(await Promise.all(held)).toEqual(['stored', 'stored']);
  });

  it.each(['maxPending', 'maxGroup', 'maxGroupBytes', 'groupsInFlight', 'retryAfterSeconds'])('refuses a %s that is not a positive integer', (key) => {
    expect(() => new WebhookIngest(heldDatabase(), { [key]: 0 })).toThrow(`WebhookIngest: ${key} must be a positive integer`);
    expect(() => new WebhookIngest(heldDatabase(), { [key]: 1.5 })).toThrow(RangeError);
  });
});
