/**
 * `npm run dev` start-up to the first healthy /healthz (status ok), in one run:
 *   baseline          PostgreSQL and Redis already running (the machine's, 127.0.0.1:5432 / 6379)
 *   embedded, first   nothing at the default ports: embedded PostgreSQL created (initdb) + single instance
 *   embedded, again   the same folder restarted: the embedded PostgreSQL's data reused
 * Each round starts the service entry as `npm run dev` does (`tsx src/service/main.ts --dev`) in a
 * fresh folder whose .env the dev bootstrap writes, and polls GET /healthz every 50 ms.
 * Usage: npm run bench:dev   (BENCH_ROUNDS=3 by default; BENCH_QUICK=1: one round;
 *        BENCH_POSTGRES_URL / BENCH_REDIS_URL: the baseline's servers)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { BENCH_POSTGRES, BENCH_QUICK, BENCH_REDIS } from './support/quick.js';
import { freePort } from '../test/service/support/free-port.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (BENCH_QUICK ? 1 : 3));
const REPO = new URL('..', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SHARED_PG = BENCH_POSTGRES;

async function folder(root: string, databaseUrl: string, redisUrl: string): Promise<string> {
  const dir = await mkdtemp(join(root, 'work-'));
  await chmod(dir, 0o755);
  const example = (await readFile(join(REPO, '.env.example'), 'utf8'))
    .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=${databaseUrl}`)
    .replace(/^REDIS_URL=.*$/m, `REDIS_URL=${redisUrl}`);
  await writeFile(join(dir, '.env.example'), example);
  return dir;
}

/** Milliseconds from spawning the service to its first /healthz with status ok; leaves it running. */
async function timeToHealthy(cwd: string): Promise<{ ms: number; proc: ChildProcess }> {
  const port = await freePort();
  const started = performance.now();
  const proc = spawn(process.execPath, ['--import', TSX, join(REPO, 'src/service/main.ts'), '--dev'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`service exited ${proc.exitCode}`);
    try {
      const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string };
      if (body.status === 'ok') return { ms: performance.now() - started, proc };
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 300_000) throw new Error('not healthy within 5 minutes');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(proc: ChildProcess): Promise<void> {
  proc.kill('SIGTERM');
  if (proc.exitCode === null) await once(proc, 'exit');
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: `${SHARED_PG}/postgres` });
  await c.connect();
  await c.query(sql);
  await c.end();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const root = await mkdtemp(join(tmpdir(), 'bench-dev-start-'));
await chmod(root, 0o755);
const times = { baseline: [] as number[], first: [] as number[], again: [] as number[] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    const db = `bench_dev_${process.pid}_${randomBytes(3).toString('hex')}`;
    const base = await timeToHealthy(await folder(root, `${SHARED_PG}/${db}`, BENCH_REDIS));
    times.baseline.push(base.ms);
    await stop(base.proc);
    await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);

    const dir = await folder(root, `postgresql://postgres@127.0.0.1:${await freePort()}/whatsapp_saas`, `redis://127.0.0.1:${await freePort()}`);
    const first = await timeToHealthy(dir);
    times.first.push(first.ms);
    await stop(first.proc);
    const again = await timeToHealthy(dir);
    times.again.push(again.ms);
    await stop(again.proc);
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

const b = median(times.baseline);
const row = (name: string, xs: number[]) =>
  `| ${name} | ${(median(xs) / 1000).toFixed(2)} | ${(Math.min(...xs) / 1000).toFixed(2)}-${(Math.max(...xs) / 1000).toFixed(2)} | ${(median(xs) / b).toFixed(1)}x |`;
console.log(`\nnode ${process.version}, ${ROUNDS} rounds, first healthy /healthz after spawning the service (tsx, --dev)\n`);
console.log('| start | median s | range s | vs baseline |');
console.log('|---|---:|---:|---:|');
console.log(row('PostgreSQL and Redis already running (baseline)', times.baseline));
console.log(row('embedded PostgreSQL, first run (initdb), no Redis', times.first));
console.log(row('embedded PostgreSQL, restart (data kept), no Redis', times.again));
