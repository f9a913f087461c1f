import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { webhookIngestHooks } from '../../src/service/app.js';
import { Database, pgPoolConfig } from '../../src/service/database.js';
import { createLogger } from '../../src/service/logger.js';
import { createMetrics } from '../../src/service/metrics.js';
import { WebhookIngest, type WebhookIngestOptions } from '../../src/service/webhook-ingest.js';
import { FakeClock } from '../support/fake-clock.js';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { listenApp, type ListeningApp } from './support/listening-app.js';
import { createPostgresCluster, throwawayDatabase, type PostgresCluster, type ThrowawayDatabase } from './support/postgres.js';
import { SHARED_REDIS_URL } from './support/redis-server.js';
import { startHarness, testSecrets, type Harness } from './support/service-harness.js';
import { waitFor } from './support/wait-for.js';

const sha256 = (b: string) => createHash('sha256').update(b).digest('hex');

interface Delivery {
  readonly id: string;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly json: { duplicate?: boolean; error?: { code: string } };
  /** Whether its row was committed when the answer arrived (read by another session at once). */
  readonly durableWhenAnswered: boolean;
}

/** Over real HTTP to a listening app: POST /webhook with a valid signature, then reads the row from another session. */
function deliverer(url: () => string, secret: () => string, reader: () => pg.Pool) {
  let answered = 0;
  const deliver = async (body: string): Promise<Delivery> => {
    const res = await fetch(`${url()}/webhook`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, secret()) },
    });
    answered++;
    const { rowCount } = await reader().query('SELECT 1 FROM webhook_events WHERE id = $1', [sha256(body)]);
    return { id: sha256(body), status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as Delivery['json'], durableWhenAnswered: rowCount === 1 };
  };
  return { deliver, answered: () => answered };
}

const event = (tag: string) => `{"object":"whatsapp_business_account","entry":[{"id":"${tag}-${randomBytes(6).toString('hex')}","changes":[]}]}`;

describe('POST /webhook group commit, over HTTP and the shared PostgreSQL', () => {
  let db: ThrowawayDatabase;
  let h: Harness;
  let reader: pg.Pool;
  let locker: pg.Client;
  let served: ListeningApp | undefined;
  let ingest: WebhookIngest;

  beforeAll(async () => {
    db = await throwawayDatabase('svc_ingest');
    h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
    reader = new pg.Pool({ connectionString: db.url, max: 4 });
    locker = new pg.Client({ connectionString: db.url });
    // pool.end() resolves before its sockets close, and the drop (WITH FORCE) then terminates them
    // (57P01): an error an idle client emits with no listener would be thrown at the test run.
    reader.on('error', () => {});
    locker.on('error', () => {});
    await locker.connect();
  });

  afterEach(async () => {
    await locker.query('ROLLBACK').catch(() => {});
    await served?.app.close();
    served = undefined;
  });

  afterAll(async () => {
    await Promise.all([reader.end(), locker.end()]);
    await h.close();
    await db.drop();
  });

  async function serve(options: Partial<WebhookIngestOptions>) {
    ingest = new WebhookIngest(h.database, options);
    served = await listenApp(h, { webhookIngest: ingest });
    return deliverer(() => `http://127.0.0.1:${served!.port}`, () => h.env.META_APP_SECRET!, () => reader);
  }

  /** Holds every INSERT into webhook_events until release(): groups then pile up where the test can count them. */
  async function holdInserts() {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE webhook_events IN EXCLUSIVE MODE');
    return { release: () => locker.query('COMMIT') };
  }

  const pending = () => ingest.stats().waiting + ingest.stats().writing;

  /** The one service session waiting on the held lock, ended as a crash or failover would end it (57P01). */
  async function killBlockedGroup(): Promise<void> {
    let pid: number | undefined;
    await waitFor(async () => {
      const { rows } = await reader.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'whatsapp-saas-backend' AND wait_event_type = 'Lock'",
      );
      pid = rows.length === 1 ? rows[0]!.pid : undefined;
      return pid !== undefined;
    });
    await reader.query('SELECT pg_terminate_backend($1)', [pid]);
  }

  async function transactionsHolding(ids: readonly string[]): Promise<number> {
    const { rows } = await reader.query<{ n: string }>('SELECT count(DISTINCT xmin::text) AS n FROM webhook_events WHERE id = ANY($1)', [ids]);
    return Number(rows[0]!.n);
  }

  it('commits concurrent deliveries in fewer transactions than deliveries, and answers each only once its event is durable', async () => {
    const http = await serve({ groupsInFlight: 4 });
    const hold = await holdInserts();
    const bodies = Array.from({ length: 40 }, (_, i) => event(`burst${i}`));

    const all = Promise.all(bodies.map((b) => http.deliver(b)));
    await waitFor(() => pending() === 40);
    const answeredWhileHeld = http.answered();
    await hold.release();
    const results = await all;

    expect(answeredWhileHeld).toBe(0);
    expect(results.map((r) => r.status)).toEqual(bodies.map(() => 200));
    expect(results.every((r) => r.durableWhenAnswered && r.json.duplicate === false)).toBe(true);
    const transactions = await transactionsHolding(results.map((r) => r.id));
    // At most the four groups that left before the lock was released, then one with the rest.
    expect(transactions).toBeLessThanOrEqual(5);
    expect(transactions).toBe(ingest.stats().groupsCommitted);
  });

  it('stores a delivery repeated within a burst once, and tells each whether it was the one stored', async () => {
    const http = await serve({ groupsInFlight: 1 });
    const old = event('stored-before');
    expect((await http.deliver(old)).json.duplicate).toBe(false);
    const hold = await holdInserts();
    const fresh = event('repeated');

    const all = Promise.all([old, fresh, old, fresh, fresh].map((b) => http.deliver(b)));
    await waitFor(() => pending() === 5);
    await hold.release();
    const results = await all;

    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.id === sha256(old)).map((r) => r.json.duplicate)).toEqual([true, true]);
    expect(results.filter((r) => r.id === sha256(fresh)).map((r) => r.json.duplicate).sort()).toEqual([false, true, true]);
    expect((await reader.query('SELECT 1 FROM webhook_events WHERE id = ANY($1)', [[sha256(old), sha256(fresh)]])).rowCount).toBe(2);
  });

  it('answers 503 with Retry-After to exactly the members of a group whose transaction failed, and 200 to the next group', async () => {
    const http = await serve({ groupsInFlight: 1 });
    const hold = await holdInserts();
    const plug = http.deliver(event('plug'));
    await waitFor(() => ingest.stats().writing === 1);
    const failing = ['a1', 'a2', 'a3'].map(event);
    const failed = Promise.all(failing.map((b) => http.deliver(b)));
    await waitFor(() => ingest.stats().waiting === 3);

    await killBlockedGroup(); // the plug's group
    await waitFor(() => ingest.stats().writing === 3 && ingest.stats().waiting === 0);
    const succeeding = ['b1', 'b2', 'b3'].map(event);
    const succeeded = Promise.all(succeeding.map((b) => http.deliver(b)));
    await waitFor(() => ingest.stats().waiting === 3);
    await killBlockedGroup(); // a1..a3's group
    const failures = await failed;
    await hold.release();
    const successes = await succeeded;

    expect((await plug).status).toBe(503);
    expect(failures.map((r) => [r.status, r.retryAfter, r.json.error?.code])).toEqual(failing.map(() => [503, '5', 'SERVICE_UNAVAILABLE']));
    expect(failures.some((r) => r.durableWhenAnswered)).toBe(false);
    expect(successes.map((r) => [r.status, r.durableWhenAnswered])).toEqual(succeeding.map(() => [200, true]));
    expect(ingest.stats()).toMatchObject({ groupsFailed: 2, groupsCommitted: 1 });
  });

  it('refuses a delivery at once with 503 and Retry-After when the queue is full, and stores the ones it holds', async () => {
    const http = await serve({ maxPending: 4, groupsInFlight: 1, retryAfterSeconds: 2 });
    const hold = await holdInserts();
    const held = Promise.all(['q1', 'q2', 'q3', 'q4'].map((t) => http.deliver(event(t))));
    await waitFor(() => pending() === 4);

    const refused = await http.deliver(event('q5'));
    const answeredBeforeRelease = http.answered();
    await hold.release();
    const stored = await held;

    expect(answeredBeforeRelease).toBe(1);
    expect([refused.status, refused.retryAfter, refused.json.error?.code, refused.durableWhenAnswered]).toEqual([503, '2', 'SERVICE_UNAVAILABLE', false]);
    expect(stored.map((r) => [r.status, r.durableWhenAnswered])).toEqual([[200, true], [200, true], [200, true], [200, true]]);
    expect(ingest.stats().refused).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${served!.port}/metrics`)).text();
    expect(metrics).toMatch(/^webhook_events_total\{result="rejected"\} 1$/m);
    expect(metrics).toMatch(/^webhook_events_total\{result="stored"\} 4$/m);
  });
});

describe('POST /webhook when PostgreSQL goes down mid-burst', () => {
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await createPostgresCluster();
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('loses no event it answered 200: each is there when the server is back', async () => {
    const url = `${cluster.serverUrl}/svc_ingest_down`;
    const h = await startHarness({ env: testSecrets(url, SHARED_REDIS_URL) });
    const served = await listenApp(h);
    const sent: { id: string; status: number }[] = [];
    let stopped = false;
    try {
      const send = async (body: string) => {
        const res = await fetch(`http://127.0.0.1:${served.port}/webhook`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, h.env.META_APP_SECRET!) },
        });
        await res.arrayBuffer();
        sent.push({ id: sha256(body), status: res.status });
        return res.status;
      };
      // Eight senders keep delivering until the server has stopped and each has been refused once.
      const senders = Array.from({ length: 8 }, async (_, s) => {
        for (let i = 0; ; i++) {
          const status = await send(event(`down${s}-${i}`));
          if (stopped && status !== 200) return;
        }
      });
      await waitFor(() => sent.filter((x) => x.status === 200).length >= 40);
      await cluster.stop();
      stopped = true;
      await Promise.all(senders);
    } finally {
      await served.app.close();
      await h.close();
    }
    await cluster.start();
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      const answered200 = sent.filter((x) => x.status === 200).map((x) => x.id);
      const { rows } = await check.query<{ id: string }>('SELECT id FROM webhook_events WHERE id = ANY($1)', [answered200]);

      expect(new Set(sent.map((x) => x.status))).toEqual(new Set([200, 503]));
      expect(answered200.length).toBeGreaterThanOrEqual(40);
      expect(rows.map((r) => r.id).sort()).toEqual([...answered200].sort());
    } finally {
      await check.end();
    }
  });
});

describe('POST /webhook with bytes PostgreSQL text cannot hold, and statements that outlive a deadline, over HTTP and real PostgreSQL', () => {
  let db: ThrowawayDatabase;
  let h: Harness;
  let reader: pg.Pool;
  let locker: pg.Client;
  const opened: { close: () => Promise<unknown> }[] = [];

  beforeAll(async () => {
    db = await throwawayDatabase('svc_ingest_odd');
    h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
    reader = new pg.Pool({ connectionString: db.url, max: 4 });
    locker = new pg.Client({ connectionString: db.url });
    // pool.end() resolves before its sockets close, and the drop (WITH FORCE) then terminates them
    // (57P01): an error an idle client emits with no listener would be thrown at the test run.
    reader.on('error', () => {});
    locker.on('error', () => {});
    await locker.connect();
  });

  afterEach(async () => {
    await locker.query('ROLLBACK').catch(() => {});
    for (const o of opened.splice(0).reverse()) await o.close();
  });

  afterAll(async () => {
    await Promise.all([reader.end(), locker.end()]);
    await h.close();
    await db.drop();
  });

  async function serve(ingest: WebhookIngest) {
    const served = await listenApp(h, { webhookIngest: ingest });
    opened.push({ close: () => served.app.close() });
    return deliverer(() => `http://127.0.0.1:${served.port}`, () => h.env.META_APP_SECRET!, () => reader);
  }

  /** A Database on the same tables whose pool has other deadlines. */
  async function databaseWith(deadlines: { query_timeout: number; statement_timeout: number }) {
    const database = new Database({ url: db.url, createPool: (url, role) => new pg.Pool({ ...pgPoolConfig(url, role), ...deadlines }) });
    opened.push(database);
    database.start();
    await database.whenReady();
    return database;
  }

  async function holdInserts() {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE webhook_events IN EXCLUSIVE MODE');
    return { release: () => locker.query('COMMIT') };
  }

  it('stores a signed delivery with U+0000 in its object and every other delivery of its group: 200 each, object escaped, body exact', async () => {
    const ingest = new WebhookIngest(h.database, { groupsInFlight: 1 });
    const http = await serve(ingest);
    const hold = await holdInserts();
    const plug = http.deliver(event('plug'));
    await waitFor(() => ingest.stats().writing === 1);
    const nul = `{"object":"whatsapp_business_account\\u0000","entry":[{"id":"nul-${randomBytes(6).toString('hex')}"}]}`;
    const bodies = [event('n1'), nul, event('n2'), event('n3')];
    const all = Promise.all(bodies.map((b) => http.deliver(b)));
    await waitFor(() => ingest.stats().waiting === 4);
    await hold.release();
    const results = [await plug, ...(await all)];

    expect(results.map((r) => [r.status, r.durableWhenAnswered])).toEqual(results.map(() => [200, true]));
    const { rows } = await reader.query<{ object: string; body: Buffer }>('SELECT object, body FROM webhook_events WHERE id = $1', [sha256(nul)]);
    expect(rows[0]!.object).toBe('whatsapp_business_account\\u0000');
    expect(rows[0]!.body.equals(Buffer.from(nul))).toBe(true);
    expect(ingest.stats()).toMatchObject({ groupsFailed: 0, retriedAlone: 0 });
  });

  it('stores the rest of a group when PostgreSQL refuses one event (a check constraint), and that one without its object: no 500', async () => {
    await reader.query("ALTER TABLE webhook_events ADD CONSTRAINT test_refuses_poison CHECK (object IS DISTINCT FROM 'poison')");
    opened.push({ close: () => reader.query('ALTER TABLE webhook_events DROP CONSTRAINT test_refuses_poison') });
    const ingest = new WebhookIngest(h.database, { groupsInFlight: 1 });
    const http = await serve(ingest);
    const hold = await holdInserts();
    const plug = http.deliver(event('plug'));
    await waitFor(() => ingest.stats().writing === 1);
    const poison = `{"object":"poison","entry":[{"id":"p-${randomBytes(6).toString('hex')}"}]}`;
    const bodies = [event('p1'), poison, event('p2')];
    const all = Promise.all(bodies.map((b) => http.deliver(b)));
    await waitFor(() => ingest.stats().waiting === 3);
    await hold.release();
    const results = [await plug, ...(await all)];

    expect(results.map((r) => [r.status, r.durableWhenAnswered])).toEqual(results.map(() => [200, true]));
    const { rows } = await reader.query<{ object: string | null }>('SELECT object FROM webhook_events WHERE id = $1', [sha256(poison)]);
    expect(rows[0]!.object).toBeNull();
    expect(ingest.stats()).toMatchObject({ groupsFailed: 0, retriedAlone: 3, storedWithoutObject: 1 });
  });

  it('answers 503 with Retry-After, not 500, when statement_timeout cancels the statement (57014)', async () => {
    const database = await databaseWith({ query_timeout: 30_000, statement_timeout: 200 });
    const ingest = new WebhookIngest(database);
    const http = await serve(ingest);
    const hold = await holdInserts();

    const refused = await http.deliver(event('cancelled'));
    await hold.release();

    expect([refused.status, refused.retryAfter, refused.json.error?.code, refused.durableWhenAnswered]).toEqual([503, '5', 'SERVICE_UNAVAILABLE', false]);
  });

  it('counts webhook_events_total{result="stored-after-timeout"} for a delivery answered 503 whose statement committed after the client gave up', async () => {
    // The old misconfiguration on purpose: the client gives up first, the server has no deadline.
    const database = await databaseWith({ query_timeout: 300, statement_timeout: 0 });
    const clock = new FakeClock();
    const metrics = createMetrics(h.engine);
    const ingest = new WebhookIngest(database, { storedAfterTimeoutCheckMs: 1_000 }, webhookIngestHooks(createLogger({ level: 'silent' }), metrics, clock));
    const http = await serve(ingest);
    const hold = await holdInserts();

    const late = await http.deliver(event('late'));
    await hold.release();
    await waitFor(async () => (await reader.query('SELECT 1 FROM webhook_events WHERE id = $1', [late.id])).rowCount === 1);
    await clock.advance(1_000);
    await waitFor(() => ingest.stats().storedAfterTimeout === 1);

    expect(late.status).toBe(503);
    expect(await metrics.registry.metrics()).toMatch(/^webhook_events_total\{result="stored-after-timeout"\} 1$/m);
  });
});
