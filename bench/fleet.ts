/**
 * Fleet benchmark (issue 7, point 5): N service processes (default 10) in AWS mode against the
 * local Secrets Manager endpoint, one Redis (a throwaway redis-server on a free port), real
 * PostgreSQL, under a steady authenticated load:
 *   (b) notices: 1,000 junk and 1,000 well-formed refresh notices on the refresh channel in 10 s;
 *       Secrets Manager calls per instance (target <= 3);
 *   (a) rotations of ADMIN_TOKEN with each strategy of `secrets rotate admin-token`
 *       (immediate, graceful), by the CLI in this process: the time from the command's return
 *       until every instance accepts the new token (p50/p99/max; target p99 <= 1 s) and failed
 *       requests of the load (target 0), with push on (`--notify` one instance, which tells the
 *       others over Redis) and push off (no notice: the seed's TTL-only design).
 * Push off with the default TTL (1 h) would take hours per rotation, so its instances run with
 * SECRETS_TTL_MS=10000, the engine's floor; their figures say how long a fleet waits without a push
 * at the shortest TTL the engine allows. (b) runs first, before any rotation, so no grace window is
 * open and a refresh of ADMIN_TOKEN is one GetSecretValue.
 *
 * Usage: npm run bench:fleet [-- --json] [--instances N] [--rotations N]
 *   --rotations N  rotations per strategy (default 20); --json prints one JSON object only.
 * BENCH_QUICK=1: a smoke run of some 20 s (2 instances, 1 rotation per strategy, 100 + 100 notices in
 * 1 s, push off skipped: its TTL-only wait alone is 5-10 s per rotation); its figures mean nothing.
 * Needs PostgreSQL (BENCH_POSTGRES_URL, else 127.0.0.1:5432, trust auth) and redis-server on the
 * PATH. Loopback only; every loop is bounded in count and time.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { whatsappSaasCatalog } from '../src/catalog/whatsapp-saas.js';
import { run } from '../src/cli/run.js';
import { refreshChannel } from '../src/engine/index.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../src/local-aws/local-secrets-manager.js';
import { DEFAULT_NOTICE_INTERVAL_MS, DEFAULT_NOTICE_SPREAD_MS } from '../src/service/refresh-broadcast.js';
import { cliDeps } from '../test/cli/support.js';
import { createAll, localClient } from '../test/support/local-aws.js';
import { freePort } from '../test/service/support/free-port.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../test/service/support/throwaway-redis.js';
import { spawnService, type ServiceProcess } from '../test/service/support/service-process.js';
import { BENCH_POSTGRES, BENCH_QUICK } from './support/quick.js';

// The SDK's Node 20 support notice would otherwise land in the output (checked when a client is built).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, instances: { type: 'string', default: BENCH_QUICK ? '2' : '10' }, rotations: { type: 'string', default: BENCH_QUICK ? '1' : '20' } },
  strict: true,
});
const INSTANCES = positive(args.instances, '--instances');
const ROTATIONS = positive(args.rotations, '--rotations');
const JSON_ONLY = args.json;
const STRATEGIES = ['immediate', 'graceful'] as const;
const PUSH_OFF_TTL_MS = 10_000; // MIN_TTL_MS
const LOAD_INTERVAL_MS = 100; // per instance: 10 authenticated requests a second each
// POST /admin/refresh-secrets allows 10 calls a minute per client: the CLI's --notify is one.
// The quick mode's two rotations stay under that limit unspaced.
const ROTATION_SPACING_MS = BENCH_QUICK ? 0 : 6_200;
const NOTICES = BENCH_QUICK ? 100 : 1_000;
const NOTICE_WINDOW_MS = BENCH_QUICK ? 1_000 : 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const token = () => randomBytes(48).toString('base64url');
const log = (line: string) => (JSON_ONLY ? undefined : console.log(line));

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
  return n;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface World {
  readonly lsm: LocalSecretsManager;
  readonly redis: ThrowawayRedis;
  readonly dbUrl: string;
  adminToken: string;
}

async function startFleet(world: World, extraEnv: Record<string, string>): Promise<ServiceProcess[]> {
  const fleet: ServiceProcess[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    fleet.push(
      spawnService({
        port: await freePort(),
        env: {
          USE_AWS_SECRETS: 'true',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: world.lsm.url,
          AWS_ACCESS_KEY_ID: 'bench',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          // No .env: AWS mode reads nothing else (and a missing file is fine, unlike node --env-file on Node 20).
          ENV_FILE: `/nonexistent/bench-fleet-${process.pid}.env`,
          LOG_LEVEL: 'error',
          // Each simulated client sends its own X-Forwarded-For through loopback, so the
          // brute-force throttle sees clients, not the one loopback address.
          TRUST_PROXY: 'loopback',
          ...extraEnv,
        },
      }),
    );
  }
  try {
    await Promise.all(fleet.map((s) => s.waitForHealth((b) => b.status === 'ok', 120_000)));
  } catch (err) {
    await stopFleet(fleet);
    throw err;
  }
  return fleet;
}

async function stopFleet(fleet: readonly ServiceProcess[]): Promise<void> {
  await Promise.all(fleet.map((s) => s.stop()));
}

const health = (url: string, t: string, client: string) =>
  fetch(`${url}/admin/secrets/health`, { headers: { 'x-admin-token': t, 'x-forwarded-for': client } }).then(
    async (r) => ({ status: r.status, versionId: r.status === 200 ? ((await r.json()) as { secrets: Record<string, { versionId: string | null }> }).secrets.ADMIN_TOKEN?.versionId : undefined }),
    () => ({ status: 0, versionId: undefined }),
  );

/** (b): junk and well-formed notices for NOTICE_WINDOW_MS; Secrets Manager calls they caused. */
async function noticeFlood(world: World, fleet: readonly ServiceProcess[]) {
  const publisher = new Redis(world.redis.url);
  const catalog = whatsappSaasCatalog();
  // The channel the fleet listens on: AWS mode, the default project and environment.
  const channel = refreshChannel(catalog, 'aws');
  const junk = (i: number) =>
    [
      `rotate please ${i}`,
      JSON.stringify({ v: 1, origin: 'bench', reason: 'junk', names: ['NOT_IN_THE_CATALOG'], at: new Date().toISOString() }),
      JSON.stringify({ refresh: true, i }),
      'x'.repeat(10_000),
    ][i % 4]!;
  const good = (i: number) =>
    JSON.stringify({ v: 1, origin: `bench-${i}`, reason: 'bench notice', names: [catalog.entries[0]!.name], at: new Date().toISOString() });
  world.lsm.resetCounts();
  const started = performance.now();
  let receivers = 0;
  for (let i = 0; i < NOTICES; i++) {
    // Evenly over the window: a pair every 10 ms.
    const due = started + (i * NOTICE_WINDOW_MS) / NOTICES;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await publisher.publish(channel, junk(i));
    receivers += await publisher.publish(channel, good(i));
  }
  const sentMs = performance.now() - started;
  // The trailing refresh comes at most one interval plus the spread after the last one started.
  await sleep(DEFAULT_NOTICE_INTERVAL_MS + DEFAULT_NOTICE_SPREAD_MS + 2_000);
  publisher.disconnect();
  const counts = world.lsm.counts();
  const calls = Object.values(counts).reduce((a, b) => a + b, 0);
  return { sentMs, receiversPerNotice: receivers / NOTICES, counts, callsPerInstance: calls / fleet.length };
}

interface RotationRun {
  readonly adoptMs: Record<(typeof STRATEGIES)[number], number[]>;
  readonly sent: number;
  readonly failed: number;
  readonly refusedByDesign: number;
  readonly statuses: Record<string, number>;
}

/** (a): ROTATIONS rotations per strategy through the CLI, under load; adoption times. */
async function rotations(world: World, fleet: readonly ServiceProcess[], push: boolean): Promise<RotationRun> {
  const adoptMs: RotationRun['adoptMs'] = { immediate: [], graceful: [] };
  let rotation = 0;
  let loadOn = true;
  // Requests sent with a just-revoked token while an immediate rotation propagates are refused
  // by design: counted apart from failures.
  let phase: 'steady' | 'immediate' = 'steady';
  const load = { sent: 0, failed: 0, refusedByDesign: 0, statuses: new Map<number, number>() };
  const loaders = fleet.map(async ({ url }, i) => {
    // A client refused by design comes back as another client: otherwise the brute-force
    // throttle (10 failures per client address) would turn a slow TTL-only switch's 401s into 429s.
    let client = 0;
    while (loadOn) {
      const { status } = await health(url, world.adminToken, `10.${8 + i}.${(client >> 8) & 255}.${client & 255}`);
      load.sent++;
      if (status === 401 && phase === 'immediate') {
        load.refusedByDesign++;
        client++;
      }
      else if (status !== 200) {
        load.failed++;
        load.statuses.set(status, (load.statuses.get(status) ?? 0) + 1);
      }
      await sleep(LOAD_INTERVAL_MS);
    }
  });
  const dir = await mkdtemp(join(tmpdir(), 'bench-fleet-'));
  try {
    for (const strategy of STRATEGIES) {
      for (let r = 0; r < ROTATIONS; r++) {
        rotation++;
        const began = performance.now();
        const oldToken = world.adminToken;
        if (strategy === 'immediate') phase = 'immediate';
        const tokenFile = join(dir, `token-${rotation}.txt`);
        const c = await cliDeps(world.lsm);
        const argv = ['rotate', 'admin-token', '--strategy', strategy, '--yes', '--force', '--json', '--save-token', tokenFile, ...(push ? ['--notify', fleet[0]!.url] : [])];
        const code = await run(argv, c.deps);
        const returned = performance.now();
        if (code !== 0) throw new Error(`secrets rotate exited ${code}: ${c.stderr()}`);
        const { toVersionId } = JSON.parse(c.stdout()) as { toVersionId: string };
        const newToken = (await readFile(tokenFile, 'utf8')).trim();
        await Promise.all(
          fleet.map(async ({ url }, i) => {
            // Adoption is watched through the admin view's version id with the old token, never by
            // guessing with the new one: failed guesses would trip the brute-force throttle.
            // Immediate: an instance that has refreshed refuses the old token; that 401 is adoption.
            const probe = `172.16.${rotation % 250}.${i + 1}`;
            for (;;) {
              const seen = await health(url, oldToken, probe);
              if (seen.versionId === toVersionId || seen.status === 401) break;
              if (performance.now() - returned > 60_000) throw new Error(`rotation not adopted in 60 s (${seen.status})`);
              await sleep(push ? 5 : 50);
            }
            adoptMs[strategy].push(performance.now() - returned);
            const confirmed = await health(url, newToken, probe);
            if (confirmed.status !== 200) throw new Error(`new token refused after adoption (${confirmed.status})`);
          }),
        );
        // Clients switch once every instance has; meanwhile graceful keeps the old token working.
        world.adminToken = newToken;
        await sleep(200); // requests sent with the old token come back before the phase ends
        phase = 'steady';
        const spacing = push ? ROTATION_SPACING_MS - (performance.now() - began) : 0;
        if (spacing > 0) await sleep(spacing);
      }
    }
  } finally {
    loadOn = false;
    await Promise.all(loaders);
    await rm(dir, { recursive: true, force: true });
  }
  return { adoptMs, sent: load.sent, failed: load.failed, refusedByDesign: load.refusedByDesign, statuses: Object.fromEntries(load.statuses) };
}

async function main(): Promise<void> {
  const lsm = await startLocalSecretsManager({ port: 0 });
  const redis = await startThrowawayRedis();
  const dbName = `bench_fleet_${process.pid}`;
  const admin = new pg.Client({ connectionString: `${BENCH_POSTGRES}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const world: World = { lsm, redis, dbUrl: `${BENCH_POSTGRES}/${dbName}`, adminToken: token() };
  try {
    await createAll(localClient(lsm), whatsappSaasCatalog(), {
      ADMIN_TOKEN: world.adminToken,
      META_VERIFY_TOKEN: token(),
      META_APP_SECRET: token(),
      DATABASE_URL: world.dbUrl,
      REDIS_URL: redis.url,
      OPENAI_API_KEY: `sk-bench-${token()}`,
    });

    log(`# fleet benchmark: ${INSTANCES} instances, ${ROTATIONS} rotations per strategy, node ${process.version}`);
    let fleet = await startFleet(world, {});
    let flood: Awaited<ReturnType<typeof noticeFlood>>;
    let pushOn: RotationRun;
    try {
      flood = await noticeFlood(world, fleet);
      log(
        `(b) ${NOTICES} junk + ${NOTICES} well-formed notices in ${(flood.sentMs / 1000).toFixed(1)} s, ${flood.receiversPerNotice} receivers each: ` +
          `Secrets Manager calls ${JSON.stringify(flood.counts)}, ${flood.callsPerInstance.toFixed(2)} per instance (target <= 3)`,
      );
      pushOn = await rotations(world, fleet, true);
    } finally {
      await stopFleet(fleet);
    }
    let pushOff: RotationRun | undefined;
    if (!BENCH_QUICK) {
      fleet = await startFleet(world, { SECRETS_TTL_MS: String(PUSH_OFF_TTL_MS) });
      try {
        pushOff = await rotations(world, fleet, false);
      } finally {
        await stopFleet(fleet);
      }
    }

    const all = (r: RotationRun) => [...r.adoptMs.immediate, ...r.adoptMs.graceful];
    const round = (n: number) => Math.round(n);
    const figures = (r: RotationRun) => ({
      p50Ms: round(percentile(all(r), 50)),
      p99Ms: round(percentile(all(r), 99)),
      maxMs: round(Math.max(...all(r))),
      byStrategy: Object.fromEntries(
        STRATEGIES.map((s) => [s, { p50Ms: round(percentile(r.adoptMs[s], 50)), p99Ms: round(percentile(r.adoptMs[s], 99)), maxMs: round(Math.max(...r.adoptMs[s])) }]),
      ),
      requests: r.sent,
      failedRequests: r.failed,
      failedStatuses: r.statuses,
      refusedByDesign: r.refusedByDesign,
    });
    const on = figures(pushOn);
    const off = pushOff === undefined ? undefined : figures(pushOff);
    const result = {
      instances: INSTANCES,
      rotationsPerStrategy: ROTATIONS,
      strategies: STRATEGIES,
      adoptions: all(pushOn).length,
      p50Ms: on.p50Ms,
      p99Ms: on.p99Ms,
      maxMs: on.maxMs,
      failedRequests: on.failedRequests,
      pushOn: on,
      ...(off !== undefined && {
        pushOffP50Ms: off.p50Ms,
        pushOffP99Ms: off.p99Ms,
        pushOffMaxMs: off.maxMs,
        pushOff: { ...off, ttlMs: PUSH_OFF_TTL_MS, note: `push off runs with SECRETS_TTL_MS=${PUSH_OFF_TTL_MS} (the engine's floor); the default TTL is 1 h` },
      }),
      quick: BENCH_QUICK,
      noticeCallsPerInstance: Number(flood.callsPerInstance.toFixed(2)),
      noticeCalls: flood.counts,
      notices: { junk: NOTICES, wellFormed: NOTICES, windowMs: NOTICE_WINDOW_MS, minIntervalMs: DEFAULT_NOTICE_INTERVAL_MS, spreadMs: DEFAULT_NOTICE_SPREAD_MS },
      node: process.version,
    };
    if (JSON_ONLY) {
      console.log(JSON.stringify(result));
      return;
    }
    if (off === undefined) log('(a) push off: skipped (quick mode)');
    for (const [label, f] of [
      ['push on (rotate --notify one instance; the others by Redis notice)', on],
      ...(off === undefined ? [] : [[`push off (no notice; TTL-only, SECRETS_TTL_MS=${PUSH_OFF_TTL_MS})`, off] as const]),
    ] as const) {
      log(`(a) ${label}: new token accepted by every instance, ms after the rotate command returned: p50 ${f.p50Ms}, p99 ${f.p99Ms}, max ${f.maxMs}`);
      for (const s of STRATEGIES) log(`    ${s}: ${JSON.stringify(f.byStrategy[s])}`);
      log(`    load: ${f.requests} authenticated requests, ${f.failedRequests} failed ${JSON.stringify(f.failedStatuses)}, ${f.refusedByDesign} sent with a just-revoked token refused (immediate, by design)`);
    }
  } finally {
    await lsm.close();
    await redis.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
