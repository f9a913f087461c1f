import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, WebhookOverloadedError } from '../../src/service/errors.js';
import { FakeClock } from '../support/fake-clock.js';
import { WebhookIngest, type CommittedGroup } from '../../src/service/webhook-ingest.js';
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

  it('reports each committed group once, with its counts, before its deliveries are answered', async () => {
    const db = heldDatabase();
    const seen: { group: CommittedGroup; answered: number }[] = [];
    let answered = 0;
    const ingest = new WebhookIngest(db, { groupsInFlight: 1 }, { onCommitted: (group) => seen.push({ group, answered }) });
    const first = ingest.submit(event('a')).then((r) => (answered++, r));
    const rest = [event('b'), event('a'), { ...event('c'), signedWith: 'previous' as const }].map((e) => ingest.submit(e).then((r) => (answered++, r)));

    await tick();
    db.groups[0]!.settle();
    await tick();
    // 'a' again is already stored: the database returns no row for it.
    db.groups[1]!.ids.splice(1, 1);
    db.groups[1]!.settle();

    expect(await Promise.all([first, ...rest])).toEqual(['stored', 'stored', 'duplicate', 'stored']);
    expect(seen).toEqual([
      { group: { events: 1, stored: 1, duplicates: 0, signedWithPrevious: 0, ms: expect.any(Number) }, answered: 0 },
      { group: { events: 3, stored: 2, duplicates: 1, signedWithPrevious: 1, ms: expect.any(Number) }, answered: 1 },
    ]);
  });

  it('answers a committed group even when its observer throws', async () => {
    const db = heldDatabase();
    const ingest = new WebhookIngest(db, {}, {
      onCommitted: () => {
        throw new Error('observer failed');
      },
    });
    const result = ingest.submit(event('x'));
    await tick();
    db.groups[0]!.settle();

    expect(await result).toBe('stored');
    expect(ingest.stats()).toMatchObject({ groupsCommitted: 1, groupsFailed: 0 });
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

  it('retries the members of a group that failed on a data error one by one, so only the bad one is touched, and stores it without its object', async () => {
    // PostgreSQL refuses (22021) any statement whose `object` holds the poison; the body is bytea and always fits.
    const statements: (string | null)[][] = [];
    const db = {
      query: async (_text: string, values?: unknown[]) => {
        const [ids, objects] = values as [string[], (string | null)[]];
        statements.push(objects);
        if (objects.includes('poison')) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
        return { rows: ids.map((id) => ({ id })) } as never;
      },
    };
    const ingest = new WebhookIngest(db, { groupsInFlight: 1 });
    const plug = ingest.submit(event('plug'));
    const group = ['a', 'bad', 'c'].map((id) => ingest.submit({ ...event(id), object: id === 'bad' ? 'poison' : 'page' }));

    expect(await plug).toBe('stored');
    expect(await Promise.all(group)).toEqual(['stored', 'stored', 'stored']);
    expect(statements).toEqual([[null], ['page', 'poison', 'page'], ['page'], ['poison'], [null], ['page']]);
    expect(ingest.stats()).toMatchObject({ groupsFailed: 0, groupsCommitted: 2, retriedAlone: 3, storedWithoutObject: 1 });
  });

  it('answers each member retried alone for itself: one that meets a database going down does not turn the others\' 200 into 503', async () => {
    let calls = 0;
    const db = {
      query: async (_text: string, values?: unknown[]) => {
        calls++;
        const [ids, objects] = values as [string[], (string | null)[]];
        if (objects.includes('poison')) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
        if (ids.includes('late')) throw new DatabaseUnavailableError('ECONNREFUSED');
        return { rows: ids.map((id) => ({ id })) } as never;
      },
    };
    const committed: CommittedGroup[] = [];
    const ingest = new WebhookIngest(db, { groupsInFlight: 1 }, { onCommitted: (g) => committed.push(g) });
    const plug = ingest.submit(event('plug'));
    const group = [{ ...event('a'), object: 'poison' }, event('b'), event('late')].map((e) => ingest.submit(e).catch((err: unknown) => err));

    await plug;
    const answers = await Promise.all(group);

    expect(answers.slice(0, 2)).toEqual(['stored', 'stored']);
    expect(answers[2]).toBeInstanceOf(DatabaseUnavailableError);
    expect(committed.at(-1)).toMatchObject({ events: 2, stored: 2, duplicates: 0 });
    expect(calls).toBe(6);
  });

  it('answers 503 (never the raw data error) for an event PostgreSQL refuses even without its object', async () => {
    const dataError = Object.assign(new Error('check violation'), { code: '23514' });
    const db = { query: async () => Promise.reject(dataError) };
    const ingest = new WebhookIngest(db);

    const err = await ingest.submit(event('x')).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE', dbCode: '23514' });
  });

  it('counts the events of a group that timed out on the client but were committed, after the check delay', async () => {
    const clock = new FakeClock();
    const stored: number[] = [];
    const checks: unknown[][] = [];
    const db = {
      query: async (text: string, values?: unknown[]) => {
        if (text.startsWith('SELECT')) {
          checks.push(values!);
          return { rows: (values![0] as string[]).filter((id) => id === 'a').map((id) => ({ id })) } as never;
        }
        throw new DatabaseUnavailableError('Timeout');
      },
    };
    const ingest = new WebhookIngest(db, { storedAfterTimeoutCheckMs: 1_000 }, { clock, onStoredAfterTimeout: (n) => stored.push(n) });

    const answers = await Promise.all(['a', 'b'].map((id) => ingest.submit(event(id)).catch((e: unknown) => e)));
    const beforeCheck = checks.length;
    await clock.advance(1_000);

    expect(answers.every((a) => a instanceof DatabaseUnavailableError)).toBe(true);
    expect(beforeCheck).toBe(0);
    expect(checks.map((v) => v[0])).toEqual([['a'], ['b']]);
    expect(stored).toEqual([1]);
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

  it.each(['maxPending', 'maxGroup', 'maxGroupBytes', 'groupsInFlight', 'retryAfterSeconds', 'storedAfterTimeoutCheckMs'])('refuses a %s that is not a positive integer', (key) => {
    expect(() => new WebhookIngest(heldDatabase(), { [key]: 0 })).toThrow(`WebhookIngest: ${key} must be a positive integer`);
    expect(() => new WebhookIngest(heldDatabase(), { [key]: 1.5 })).toThrow(RangeError);
  });
});
