/**
 * Engine benchmarks, one run, ratios against baselines measured in the same run:
 *   1. hot read: engine.get() vs a bare Map.get, reading process.env, and Powertools'
 *      SecretsProvider cache hit;
 *   2. start-up load of the 11-secret catalog through the local Secrets Manager endpoint with
 *      50 ms added latency: API calls and wall time, engine (BatchGetSecretValue) vs per-secret
 *      GetSecretValue (sequential, as the seed's loop does, and all in parallel).
 * Usage: npm run bench   (BENCH_QUICK=1 for a smoke run)
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { whatsappSaasCatalog } from '../src/catalog/whatsapp-saas.js';
import { createAwsSource, createSecretsEngine, createSecretsManagerClient } from '../src/engine/index.js';
import { startLocalSecretsManager } from '../src/local-aws/local-secrets-manager.js';
import { seedCatalog } from './seed-catalog.js';

// The SDK's Node 20 support notice is not a benchmark result; keep it out of the report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 3 : 9;
const OPS = QUICK ? 200_000 : 2_000_000;
const ASYNC_OPS = QUICK ? 20_000 : 200_000;

let sink = 0;

/** Median of ROUNDS timed rounds (after one warm-up), in ns per operation. */
function median(round: () => number): number {
  round();
  const samples = Array.from({ length: ROUNDS }, round).sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const elapsedNs = (t0: bigint, ops: number): number => Number(process.hrtime.bigint() - t0) / ops;

async function asyncMedian(round: () => Promise<number>): Promise<number> {
  await round();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) samples.push(await round());
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

function client(url: string): SecretsManagerClient {
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  return createSecretsManagerClient({ region: 'us-east-1', endpoint: url, requestTimeoutMs: 10_000 });
}

async function main(): Promise<void> {
  // Secrets created a day ago, as in production: no rotation grace window is open at start-up.
  let offsetMs = -24 * 3_600_000;
  const lsm = await startLocalSecretsManager({ port: 0, clock: { now: () => Date.now() + offsetMs } });
  const catalog = whatsappSaasCatalog();
  await seedCatalog(client(lsm.url), catalog);
  offsetMs = 0;
  const names = catalog.entries.map((e) => e.name) as (keyof typeof catalog.spec & string)[];

  // --- hot read ---------------------------------------------------------------------------
  const engine = createSecretsEngine({ catalog, source: createAwsSource({ client: client(lsm.url), region: 'us-east-1' }) });
  await engine.initialize();
  const map = new Map<string, unknown>(names.map((n) => [n, engine.get(n)]));
  for (const n of names) process.env[`BENCH_${n}`] = String(engine.get(n));
  const envNames = names.map((n) => `BENCH_${n}`);
  const provider = new SecretsProvider({ awsSdkV3Client: client(lsm.url) as never });
  const ids = catalog.entries.map((e) => e.awsId);
  for (const id of ids) await provider.get(id, { maxAge: 3600 });
  lsm.resetCounts();

  // Each loop is written out, not passed as a callback, so no call-site overhead hides the cost.
  const k = names.length;
  const mapNs = median(() => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) sink = (sink + (map.get(names[i % k]!) === undefined ? 0 : 1)) | 0;
    return elapsedNs(t0, OPS);
  });
  const engineNs = median(() => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) sink = (sink + (engine.get(names[i % k]!) === undefined ? 0 : 1)) | 0;
    return elapsedNs(t0, OPS);
  });
  const envNs = median(() => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) sink = (sink + (process.env[envNames[i % k]!] === undefined ? 0 : 1)) | 0;
    return elapsedNs(t0, OPS);
  });
  const powertoolsNs = await asyncMedian(async () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ASYNC_OPS; i++) sink = (sink + ((await provider.get(ids[i % k]!, { maxAge: 3600 })) === undefined ? 0 : 1)) | 0;
    return elapsedNs(t0, ASYNC_OPS);
  });
  const hotCalls = Object.values(lsm.counts()).reduce((a, b) => a + b, 0);
  engine.close();

  // --- start-up ---------------------------------------------------------------------------
  lsm.setFaults({ latencyMs: 50 });
  const startupRuns = QUICK ? 2 : 5;
  const timed = async (fn: () => Promise<unknown>) => {
    const walls: number[] = [];
    let calls = 0;
    for (let r = 0; r < startupRuns; r++) {
      lsm.resetCounts();
      const t0 = performance.now();
      await fn();
      walls.push(performance.now() - t0);
      calls = Object.values(lsm.counts()).reduce((a, b) => a + b, 0);
    }
    walls.sort((a, b) => a - b);
    return { wallMs: walls[Math.floor(walls.length / 2)]!, calls };
  };
  const c = client(lsm.url);
  await c.send(new GetSecretValueCommand({ SecretId: ids[0] })); // warm the connection for everyone
  const engineStartup = await timed(async () => {
    const e = createSecretsEngine({ catalog, source: createAwsSource({ client: c, region: 'us-east-1' }) });
    await e.initialize();
    e.close();
  });
  const sequential = await timed(async () => {
    for (const id of ids) await c.send(new GetSecretValueCommand({ SecretId: id }));
  });
  const parallel = await timed(() => Promise.all(ids.map((id) => c.send(new GetSecretValueCommand({ SecretId: id })))));
  await lsm.close();

  const f = (n: number) => n.toFixed(1);
  const r = (n: number) => `${n.toFixed(2)}x`;
  console.log(`# engine benchmark (${QUICK ? 'quick' : 'full'}: ${ROUNDS} rounds, medians; node ${process.version})`);
  console.log('');
  console.log('| hot read | ns/op | engine.get() relative |');
  console.log('|---|---:|---:|');
  console.log(`| engine.get() | ${f(engineNs)} | 1.00x |`);
  console.log(`| bare Map.get | ${f(mapNs)} | engine is ${r(engineNs / mapNs)} the cost (target <= 1.5x) |`);
  console.log(`| process.env read | ${f(envNs)} | engine is ${r(envNs / engineNs)} faster (target >= 10x) |`);
  console.log(`| Powertools SecretsProvider cache hit | ${f(powertoolsNs)} | engine is ${r(powertoolsNs / engineNs)} faster (target >= 50x) |`);
  console.log('');
  console.log(`API calls during the hot-read runs: ${hotCalls}`);
  console.log('');
  console.log('| start-up, 11 secrets, +50 ms per call | API calls | wall ms | vs engine |');
  console.log('|---|---:|---:|---:|');
  console.log(`| engine (BatchGetSecretValue) | ${engineStartup.calls} | ${f(engineStartup.wallMs)} | 1.00x |`);
  console.log(`| per-secret GetSecretValue, sequential | ${sequential.calls} | ${f(sequential.wallMs)} | ${r(sequential.wallMs / engineStartup.wallMs)} slower |`);
  console.log(`| per-secret GetSecretValue, parallel | ${parallel.calls} | ${f(parallel.wallMs)} | ${r(parallel.wallMs / engineStartup.wallMs)} slower |`);
  if (sink === 42) console.log('');
}

await main();
