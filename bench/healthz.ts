/**
 * GET /healthz with one shared probe round (HEALTH_MAX_AGE_MS, 1 s by default) against a probe
 * round per request (HEALTH_MAX_AGE_MS=0: concurrent requests still join one in flight), in one
 * run, each beside a bare Fastify route in the same server process (bench/http-server.ts):
 * requests per second, p99, and the PostgreSQL and Redis round trips the probes made per second.
 * autocannon, 10 connections, 1 s warm-up then BENCH_SECONDS (5) s per target, request log lines
 * on as in production. Usage: npm run bench:healthz   (BENCH_SECONDS=2 for a smoke run)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import pg from 'pg';

interface Result {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number }) => Promise<Result>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;
const SERVER = 'postgresql://postgres@127.0.0.1:5432';
const dbName = `bench_healthz_${process.pid}_${randomBytes(3).toString('hex')}`;
const secrets = {
  ADMIN_TOKEN: randomBytes(48).toString('base64'),
  META_VERIFY_TOKEN: randomBytes(48).toString('base64'),
  META_APP_SECRET: randomBytes(32).toString('hex'),
  DATABASE_URL: `${SERVER}/${dbName}`,
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  OPENAI_API_KEY: 'sk-bench',
};

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  databasePerSecond?: number;
  redisPerSecond?: number;
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await c.connect();
  await c.query(sql);
  await c.end();
}

async function measure(healthMaxAgeMs: string): Promise<{ baseline: Row; healthz: Row }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./http-server.ts', import.meta.url).pathname], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BENCH_LOG_REQUESTS: '1', BENCH_HEALTH_MAX_AGE_MS: healthMaxAgeMs, ...secrets },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const ports = JSON.parse(line) as { baseline: number; service: number };
    const probes = async () => (await (await fetch(`http://127.0.0.1:${ports.baseline}/probes`)).json()) as { database: number; redis: number };
    const run = async (url: string) => {
      await autocannon({ url, connections: CONNECTIONS, duration: 1 });
      return autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
    };
    const row = (name: string, r: Result): Row => ({ name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: r.errors + r.non2xx + r.timeouts });

    const baseline = row('bare Fastify GET / (baseline)', await run(`http://127.0.0.1:${ports.baseline}/`));
    await autocannon({ url: `http://127.0.0.1:${ports.service}/healthz`, connections: CONNECTIONS, duration: 1 });
    const before = await probes();
    const r = await autocannon({ url: `http://127.0.0.1:${ports.service}/healthz`, connections: CONNECTIONS, duration: SECONDS });
    const after = await probes();
    const healthz = {
      ...row(`GET /healthz, HEALTH_MAX_AGE_MS=${healthMaxAgeMs}`, r),
      databasePerSecond: (after.database - before.database) / SECONDS,
      redisPerSecond: (after.redis - before.redis) / SECONDS,
    };
    return { baseline, healthz };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

try {
  const perRequest = await measure('0');
  const shared = await measure('1000');
  console.log(`\nnode ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s per target after 1 s warm-up, loopback\n`);
  console.log('| target | req/s | req/s vs its baseline | p50 ms | p99 ms | PostgreSQL probes/s | Redis probes/s | failed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const { baseline, healthz } of [perRequest, shared]) {
    for (const r of [baseline, healthz]) {
      const probes = r.databasePerSecond === undefined ? '| - | -' : `| ${r.databasePerSecond.toFixed(1)} | ${r.redisPerSecond!.toFixed(1)}`;
      console.log(`| ${r.name} | ${Math.round(r.rps)} | ${(r.rps / baseline.rps).toFixed(2)}x | ${r.p50} | ${r.p99} ${probes} | ${r.failed} |`);
    }
  }
  console.log(`\nshared vs per-request /healthz: ${(shared.healthz.rps / perRequest.healthz.rps).toFixed(2)}x the requests per second`);
} finally {
  await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => {});
}
