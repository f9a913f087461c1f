/**
 * GET /healthz with one shared probe round (HEALTH_MAX_AGE_MS, 1 s by default) against a probe
 * round per request (HEALTH_MAX_AGE_MS=0: concurrent requests still join one in flight), in one
 * run, each beside a bare Fastify route in the same server process (bench/http-server.ts):
 * requests per second, p99, and the PostgreSQL and Redis round trips the probes made per second.
 * autocannon, 10 connections, 1 s warm-up then BENCH_SECONDS (5) s per target, request log lines
 * on as in production. Usage: npm run bench:healthz   (BENCH_QUICK=1: 0.25 s per target, no warm-up)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { benchDatabase, benchSecrets } from './support/bench-service.js';
import { benchSeconds, WARM_UP_SECONDS } from './support/quick.js';

interface Result {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number }) => Promise<Result>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = benchSeconds(5, 0.25);
const CONNECTIONS = 10;
const database = benchDatabase('bench_healthz');
const secrets = benchSecrets(database.url);

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  databasePerSecond?: number;
  redisPerSecond?: number;
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
      if (WARM_UP_SECONDS > 0) await autocannon({ url, connections: CONNECTIONS, duration: WARM_UP_SECONDS });
      return autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
    };
    const row = (name: string, r: Result): Row => ({ name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: r.errors + r.non2xx + r.timeouts });

    const baseline = row('bare Fastify GET / (baseline)', await run(`http://127.0.0.1:${ports.baseline}/`));
    if (WARM_UP_SECONDS > 0) await autocannon({ url: `http://127.0.0.1:${ports.service}/healthz`, connections: CONNECTIONS, duration: WARM_UP_SECONDS });
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
  console.log(`\nnode ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s per target after ${WARM_UP_SECONDS} s warm-up, loopback\n`);
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
  await database.drop();
}
