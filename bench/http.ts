/**
 * HTTP throughput of the service against a bare Fastify route, in one run, on loopback:
 *   GET /              bare Fastify, the baseline
 *   GET /healthz       secrets status + PostgreSQL and Redis probes
 *   GET /admin/secrets/health   throttle check in Redis, constant-time token compare, audit line
 *   POST /webhook      HMAC of the raw body, JSON parse, group commit into PostgreSQL (answered
 *                      after the commit holding the event), each body unique
 *   POST /webhook      the same app with one event per transaction (the reference)
 * autocannon, 10 connections, a 1 s warm-up then BENCH_SECONDS (5) seconds per target, one target
 * at a time; then the baseline and both webhooks again at 100 connections; then two bursts on the
 * webhook without warm-up: 100 connections, and twice the queue (512), counting 503 + Retry-After.
 * The servers run in a child process (bench/http-server.ts), with Fastify's request log lines on,
 * as in production (BENCH_LOG_REQUESTS=0 turns them off; audit lines stay).
 * Usage: npm run bench:http   (BENCH_QUICK=1: 0.25 s per target, no warm-up; BENCH_SECONDS=N to set it)
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { DEFAULT_WEBHOOK_INGEST } from '../src/service/webhook-ingest.js';
import { benchDatabase, benchSecrets } from './support/bench-service.js';
import { benchSeconds, WARM_UP_SECONDS } from './support/quick.js';

interface Result {
  requests: { average: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}
interface Request {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: Request) => Request;
  onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string | string[]>) => void;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; requests?: Request[]; headers?: Record<string, string> }) => Promise<Result>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = benchSeconds(5, 0.25);
const CONNECTIONS = 10;
/** Ten times the connections: the side-by-side phase again, and the first burst. */
const BURST_CONNECTIONS = 10 * CONNECTIONS;
/** The service's default WEBHOOK_QUEUE_MAX (the bench server runs with the defaults). */
const QUEUE_MAX = DEFAULT_WEBHOOK_INGEST.maxPending;
const database = benchDatabase('bench_http');
const secrets = benchSecrets(database.url);

/** Median of 200 sequential autocommitted single-row INSERTs into a table of their own. */
async function commitRoundTripMs(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE bench_commit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body bytea NOT NULL)');
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await c.query('INSERT INTO bench_commit (body) VALUES ($1)', [randomBytes(64)]);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1]!;
  } finally {
    await c.end();
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', new URL('./http-server.ts', import.meta.url).pathname], {
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BENCH_LOG_REQUESTS: process.env.BENCH_LOG_REQUESTS ?? '1', ...secrets },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const ports = JSON.parse(line) as { baseline: number; service: number; perEvent: number };
  const service = `http://127.0.0.1:${ports.service}`;
  let seq = 0;
  const statuses = new Map<string, number>();
  const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
  const webhook: Request = {
    method: 'POST',
    path: '/webhook',
    onResponse: (status, _body, _context, headers) => {
      count(status === 503 ? (headers['retry-after'] !== undefined ? '503 with Retry-After' : '503 without Retry-After') : String(status));
    },
    setupRequest: (req) => {
      const body = `{"object":"whatsapp_business_account","entry":[{"id":"${process.pid}-${++seq}","changes":[]}]}`;
      const sig = `sha256=${createHmac('sha256', secrets.META_APP_SECRET).update(body).digest('hex')}`;
      return { ...req, body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig } };
    },
  };
  const perEvent = `http://127.0.0.1:${ports.perEvent}`;
  const targets: { name: string; url: string; requests?: Request[]; headers?: Record<string, string>; connections?: number }[] = [
    { name: 'bare Fastify GET / (baseline)', url: `http://127.0.0.1:${ports.baseline}/` },
    { name: 'GET /healthz', url: `${service}/healthz` },
    { name: 'GET /admin/secrets/health', url: `${service}/admin/secrets/health`, headers: { 'x-admin-token': secrets.ADMIN_TOKEN } },
    { name: 'POST /webhook (signed, stored; group commit)', url: service, requests: [webhook] },
    { name: 'POST /webhook, one event per transaction (reference)', url: perEvent, requests: [webhook] },
    { name: 'bare Fastify GET / (baseline)', url: `http://127.0.0.1:${ports.baseline}/`, connections: BURST_CONNECTIONS },
    { name: 'POST /webhook (signed, stored; group commit)', url: service, requests: [webhook], connections: BURST_CONNECTIONS },
    { name: 'POST /webhook, one event per transaction (reference)', url: perEvent, requests: [webhook], connections: BURST_CONNECTIONS },
  ];

  // The floor under any durable answer: one committed INSERT, round trip and WAL flush, on this
  // machine now. With c connections each waiting for its commit, c / this is the ceiling in req/s.
  const commitMs = await commitRoundTripMs(database.url);

  const rows: { name: string; connections: number; rps: number; p50: number; p99: number; failed: string }[] = [];
  // The group commit's share: submit to commit per delivery, read (and reset) from the server.
  const ingestFigures = async () => (await (await fetch(`http://127.0.0.1:${ports.baseline}/ingest`)).json()) as { events: number; p50Ms: number; meanMs: number; groupsCommitted: number };
  const ingestRows: { connections: number; p50Ms: number; meanMs: number; perGroup: number }[] = [];
  for (const t of targets) {
    const connections = t.connections ?? CONNECTIONS;
    // Every answer's status is counted, so a failure says what it was.
    const requests = t.requests ?? [{ method: 'GET', onResponse: (status: number) => count(String(status)) }];
    const opts = { url: t.url, connections, requests, ...(t.headers && { headers: t.headers }) };
    if (WARM_UP_SECONDS > 0) await autocannon({ ...opts, duration: WARM_UP_SECONDS });
    statuses.clear();
    const before = await ingestFigures();
    const r = await autocannon({ ...opts, duration: SECONDS });
    const after = await ingestFigures();
    const failedBy = [...statuses].filter(([status]) => !status.startsWith('2')).map(([status, n]) => `${status}: ${n}`);
    if (r.errors > 0) failedBy.push(`socket errors: ${r.errors}`);
    if (r.timeouts > 0) failedBy.push(`timeouts: ${r.timeouts}`);
    const failed = r.errors + r.non2xx + r.timeouts;
    rows.push({ name: t.name, connections, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: failed === 0 ? '0' : `${failed} (${failedBy.join(', ')})` });
    if (t.url === service && t.requests !== undefined) {
      ingestRows.push({ connections, p50Ms: after.p50Ms, meanMs: after.meanMs, perGroup: after.events / Math.max(1, after.groupsCommitted - before.groupsCommitted) });
    }
  }

  // Bursts, no warm-up: ten times the connections, then twice the queue's size in connections
  // (WEBHOOK_QUEUE_MAX, 256 by default), so that some deliveries find the queue full. What
  // matters is how many are refused with 503 + Retry-After (Meta retries those) and that the
  // latency of the rest stays bounded.
  const bursts: { connections: number; answered: number; rps: number; p50: number; p99: number; max: number; byStatus: string }[] = [];
  for (const connections of [BURST_CONNECTIONS, 2 * QUEUE_MAX]) {
    statuses.clear();
    const r = await autocannon({ url: service, connections, duration: SECONDS, requests: [webhook] });
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    const byStatus = [...statuses.entries()].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
    bursts.push({ connections, answered, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, byStatus });
  }

  console.log(`\nnode ${process.version}, ${SECONDS} s per target after ${WARM_UP_SECONDS} s warm-up, loopback, ${new Date().toISOString()}\n`);
  // autocannon reports latency in whole milliseconds, so p99 is compared as a difference.
  console.log('| target | connections | req/s | req/s vs baseline | p50 ms | p99 ms | p99 over baseline | failed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const base = rows.find((b) => b.name.startsWith('bare') && b.connections === r.connections)!;
    console.log(`| ${r.name} | ${r.connections} | ${Math.round(r.rps)} | ${(r.rps / base.rps).toFixed(2)}x | ${r.p50} | ${r.p99} | +${r.p99 - base.p99} ms | ${r.failed} |`);
  }
  for (const c of [CONNECTIONS, BURST_CONNECTIONS]) {
    const base = rows.find((b) => b.name.startsWith('bare') && b.connections === c)!;
    const hook = rows.find((b) => b.name.includes('group commit') && b.connections === c)!;
    const ref = rows.find((b) => b.name.includes('reference') && b.connections === c)!;
    console.log(
      `\n${c} connections: webhook ${(hook.rps / base.rps).toFixed(2)}x the bare route (target >= 0.40x), p99 ${hook.p99} ms (target < 20 ms); ` +
        `group commit ${(hook.rps / ref.rps).toFixed(2)}x one transaction per event`,
    );
  }
  console.log(
    `\none committed single-row INSERT, sequential: p50 ${commitMs.toFixed(2)} ms, so at most ${Math.round((CONNECTIONS * 1000) / commitMs)} req/s ` +
      `at ${CONNECTIONS} connections and ${Math.round((BURST_CONNECTIONS * 1000) / commitMs)} at ${BURST_CONNECTIONS} if every answer waited for a commit of its own`,
  );
  for (const g of ingestRows) {
    console.log(
      `group commit at ${g.connections} connections: submit to commit p50 ${g.p50Ms.toFixed(2)} ms, mean ${g.meanMs.toFixed(2)} ms ` +
        `(of a mean ${((g.connections * 1000) / rows.find((r) => r.name.includes('group commit') && r.connections === g.connections)!.rps).toFixed(2)} ms a request), ${g.perGroup.toFixed(1)} events per transaction`,
    );
  }
  console.log('\nbursts on POST /webhook, no warm-up\n');
  console.log('| connections | answered | req/s | p50 ms | p99 ms | max ms | by status |');
  console.log('|---:|---:|---:|---:|---:|---:|---|');
  for (const b of bursts) console.log(`| ${b.connections} | ${b.answered} | ${Math.round(b.rps)} | ${b.p50} | ${b.p99} | ${b.max} | ${b.byStatus} |`);
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  await database.drop();
}
