/**
 * Where the service's CPU goes on signed `POST /webhook`: starts bench/http-server.ts (the app as
 * `npm run bench:http` measures it, request logs on) under `node --cpu-prof`, drives the group
 * commit webhook with autocannon for BENCH_SECONDS (5) seconds at BENCH_CONNECTIONS (100), stops
 * it, and prints the functions with the most self time, and the share of time by package.
 * Usage: npm run bench:profile   (the .cpuprofile stays in a temp directory, printed at the end;
 *        BENCH_QUICK=1: 1 s of load)
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchDatabase, benchSecrets } from './support/bench-service.js';
import { benchSeconds } from './support/quick.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = benchSeconds(5, 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const database = benchDatabase('bench_prof');
const secrets = benchSecrets(database.url);
const dir = mkdtempSync(join(tmpdir(), 'webhook-prof-'));

const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', new URL('./http-server.ts', import.meta.url).pathname], {
  env: {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    BENCH_LOG_REQUESTS: process.env.BENCH_LOG_REQUESTS ?? '1',
    ...(process.env.BENCH_GROUPS_IN_FLIGHT !== undefined && { BENCH_GROUPS_IN_FLIGHT: process.env.BENCH_GROUPS_IN_FLIGHT }),
    ...secrets,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { service } = JSON.parse(line) as { service: number };
  let seq = 0;
  const r = await autocannon({
    url: `http://127.0.0.1:${service}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/webhook',
        setupRequest: (req: object) => {
          const body = `{"object":"whatsapp_business_account","entry":[{"id":"${process.pid}-${++seq}","changes":[]}]}`;
          const sig = `sha256=${createHmac('sha256', secrets.META_APP_SECRET).update(body).digest('hex')}`;
          return { ...req, body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig } };
        },
      },
    ],
  });
  console.log(`POST /webhook, ${CONNECTIONS} connections, ${SECONDS} s: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, failed ${r.errors + r.non2xx}`);
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  await database.drop();
}

// The main thread's profile (thread 0); tsx's loader thread writes one of its own.
const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()
  .find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
if (file === undefined) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
const total = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const n of profile.nodes) {
  const hits = n.hitCount ?? 0;
  if (hits === 0) continue;
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('src/') ? 'src (ours)' : where.startsWith('node:') ? 'node core' : where === '' ? functionName : 'other');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
}
const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
console.log(`\nself time, top functions (${total} samples):`);
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_TOP ?? 25))) console.log(`${pct(v).padStart(6)}  ${k}`);
console.log('\nself time by package:');
for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(v).padStart(6)}  ${k}`);
console.log(`\nprofile: ${join(dir, file)}`);
