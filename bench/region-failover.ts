/**
 * Part 4 of the reliability benchmark (BENCH_ONLY=regions): a primary region and one replica on
 * the local endpoint (every region in one process, told apart by the SigV4 scope), three service
 * processes with SECRETS_REPLICA_REGIONS under a steady request load, through
 *   a. start-up with the primary in outage, then with it hanging: time until every instance is up
 *      from the replica (deadline 30 s);
 *   b. a rotation made just before the primary fails, picked up from the replica, without and with
 *      replication lag (the notice names the version; see src/service/replica-version-wait.ts);
 *   c. the primary failing for `outageMs` under load: failed requests, /healthz, calls per region
 *      per 10 s, and the time back on the primary after its return;
 *   d. the time a failover adds to one attempt (in process, the real SDK against the endpoint).
 * Loopback only; every loop is bounded in count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { whatsappSaasCatalog } from '../src/catalog/whatsapp-saas.js';
import { createAwsSource, createSecretsManagerClient, refreshChannel, refreshNoticeMessage } from '../src/engine/index.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../src/local-aws/local-secrets-manager.js';
import { benchDatabase, benchSecrets } from './support/bench-service.js';
import { freePort } from '../test/service/support/free-port.js';

const PRIMARY = 'us-east-1';
const REPLICA = 'us-west-2';
const INSTANCES = 3;
const LOAD_INTERVAL_MS = 20;
const STARTUP_DEADLINE_MS = 30_000;
/** The instances' TTL: 15 s, as parts 1-2; the quick mode's is the least the service takes. */
const ttlMsOf = (quick: boolean) => (quick ? 10_000 : 15_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RegionFigures {
  readonly startupMs: { readonly outage: number[]; readonly hang: number[] };
  readonly rotation: { readonly lagMs: number; readonly adoptMs: number[]; readonly noticesApplied: number[] }[];
  readonly outage: {
    readonly durationMs: number;
    readonly sent: number;
    readonly failed: number;
    readonly statuses: Record<string, number>;
    readonly health: Record<string, number>;
    readonly servedBy: Record<string, number>;
    /** Secrets Manager calls per region in each 10 s window of the outage (all instances). */
    readonly callsPer10s: { readonly primary: number[]; readonly replica: number[] };
    readonly backOnPrimaryMs: number;
  };
  readonly attemptMs: { readonly primaryUp: number; readonly primaryDown: number; readonly primaryHanging: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

interface Instance {
  readonly url: string;
  readonly proc: ChildProcess;
}

interface SecretsHealth {
  status: string;
  services: { secrets: { region: string | null; degraded: unknown } };
}

async function healthOf(url: string): Promise<SecretsHealth | undefined> {
  return fetch(`${url}/healthz`).then(
    (r) => r.json() as Promise<SecretsHealth>,
    () => undefined,
  );
}

/** An instance's `secrets_refresh_notices_total{result="applied"}`: notices it acted on (so far). */
async function noticesApplied(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith('secrets_refresh_notices_total{') && l.includes('result="applied"'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

export async function runRegionScenarios(options: { quick: boolean }): Promise<RegionFigures> {
  const outageMs = options.quick ? 12_000 : 180_000;
  const ttlMs = ttlMsOf(options.quick);
  const lsm = await startLocalSecretsManager({ port: 0 });
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const primary = createSecretsManagerClient({ region: PRIMARY, endpoint: lsm.url, credentials, maxAttempts: 1 });
  const catalog = whatsappSaasCatalog({ project: `bench-regions-${process.pid}` });
  const db = benchDatabase('bench_regions');
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/12';
  const values = { ...benchSecrets(db.url), REDIS_URL: redisUrl };
  let adminToken = values.ADMIN_TOKEN;
  for (const e of catalog.entries) {
    const value = (values as Record<string, string | undefined>)[e.name];
    if (value !== undefined) await primary.send(new CreateSecretCommand({ Name: e.awsId, SecretString: value, AddReplicaRegions: [{ Region: REPLICA }] }));
  }
  const publisher = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await publisher.connect();
  const running: Instance[] = [];

  const spawnInstance = async (): Promise<Instance> => {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/service/main.ts'], {
      env: {
        ...process.env,
        USE_AWS_SECRETS: 'true',
        AWS_REGION: PRIMARY,
        SECRETS_REPLICA_REGIONS: REPLICA,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: lsm.url,
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        SECRETS_PROJECT: `bench-regions-${process.pid}`,
        ENV_FILE: `/nonexistent/bench-${process.pid}.env`,
        PORT: String(port),
        // Refreshes during the outage (15 s, as parts 1-2): an instance fails over when it reads.
        SECRETS_TTL_MS: String(ttlMs),
        SECRETS_GRACE_MS: String(30 * 60_000),
        LOG_LEVEL: 'error',
        TRUST_PROXY: 'loopback',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const instance = { url: `http://127.0.0.1:${port}`, proc };
    running.push(instance);
    return instance;
  };
  const stopAll = async (which: Instance[]) => {
    for (const { proc } of which) proc.kill('SIGTERM');
    await Promise.all(which.map(({ proc }) => (proc.exitCode === null ? once(proc, 'exit') : undefined)));
    for (const i of which) running.splice(running.indexOf(i), 1);
  };
  /** Spawns the fleet and answers each instance's time to a healthy or degraded /healthz. */
  const startFleet = async (): Promise<{ fleet: Instance[]; ms: number[] }> => {
    const t0 = performance.now();
    const fleet = await Promise.all(Array.from({ length: INSTANCES }, spawnInstance));
    const ms = await Promise.all(
      fleet.map(async ({ url }) => {
        for (;;) {
          const h = await healthOf(url);
          if (h !== undefined && h.status !== 'down') return performance.now() - t0;
          if (performance.now() - t0 > 60_000) throw new Error(`instance ${url} did not start`);
          await sleep(50);
        }
      }),
    );
    return { fleet, ms };
  };
  const regionOf = async (url: string) => (await healthOf(url))?.services.secrets.region ?? null;
  const waitAll = async (fleet: Instance[], region: string, boundMs: number): Promise<number> => {
    const t0 = performance.now();
    for (;;) {
      const regions = await Promise.all(fleet.map(({ url }) => regionOf(url)));
      if (regions.every((r) => r === region)) return performance.now() - t0;
      if (performance.now() - t0 > boundMs) throw new Error(`not every instance on ${region} within ${boundMs} ms: ${regions.join(', ')}`);
      await sleep(100);
    }
  };

  try {
    // --- a. start-up with the primary down ----------------------------------------------
    lsm.setFaults({ outage: true }, PRIMARY);
    const outageStart = await startFleet();
    await stopAll(outageStart.fleet);
    lsm.clearFaults(PRIMARY);
    lsm.setFaults({ hang: true }, PRIMARY);
    const { fleet, ms: hangStartMs } = await startFleet();
    lsm.clearFaults(PRIMARY);
    await waitAll(fleet, PRIMARY, 60_000);

    // Steady load from here on: the admin view on every instance, 50 requests a second each.
    let loadOn = true;
    const load = { sent: 0, failed: 0, statuses: new Map<number, number>() };
    const loaders = fleet.map(async ({ url }, i) => {
      while (loadOn) {
        const status = await fetch(`${url}/admin/secrets/health`, { headers: { 'x-admin-token': adminToken, 'x-forwarded-for': `10.6.0.${i + 1}` } }).then(
          (r) => r.status,
          () => 0,
        );
        load.sent++;
        if (status !== 200) {
          load.failed++;
          load.statuses.set(status, (load.statuses.get(status) ?? 0) + 1);
        }
        await sleep(LOAD_INTERVAL_MS);
      }
    });

    // --- b. a rotation just before the primary fails, without and with replication lag ----
    const adminId = catalog.entry('ADMIN_TOKEN')!.awsId;
    const rotations: { lagMs: number; adoptMs: number[]; noticesApplied: number[] }[] = [];
    for (const lagMs of [0, 5_000]) {
      lsm.setFaults({ replicationLagMs: lagMs }, REPLICA);
      const newToken = randomBytes(48).toString('base64url');
      const { VersionId: newVersion } = await primary.send(new PutSecretValueCommand({ SecretId: adminId, SecretString: newToken }));
      lsm.setFaults({ outage: true }, PRIMARY);
      const t0 = performance.now();
      // What `secrets rotate` publishes: the secret and its new version.
      await publisher.publish(
        refreshChannel(catalog, 'aws'),
        refreshNoticeMessage(catalog, { origin: 'bench', reason: 'rotated', names: ['ADMIN_TOKEN'], versions: { ADMIN_TOKEN: newVersion! }, at: new Date().toISOString() }),
      );
      const adoptMs = await Promise.all(
        fleet.map(async ({ url }, i) => {
          for (;;) {
            const seen = await fetch(`${url}/admin/secrets/health`, { headers: { 'x-admin-token': adminToken, 'x-forwarded-for': `10.5.${lagMs}.${i + 1}` } }).then(
              async (r) => ((await r.json()) as { secrets: Record<string, { versionId: string | null }> }).secrets.ADMIN_TOKEN?.versionId,
              () => undefined,
            );
            if (seen === newVersion) return performance.now() - t0;
            if (performance.now() - t0 > 90_000) throw new Error(`rotation with lag ${lagMs} ms not adopted from the replica in 90 s`);
            await sleep(20);
          }
        }),
      );
      rotations.push({ lagMs, adoptMs, noticesApplied: await Promise.all(fleet.map(({ url }) => noticesApplied(url))) });
      adminToken = newToken;
      lsm.clearFaults(PRIMARY);
      lsm.clearFaults(REPLICA);
      await waitAll(fleet, PRIMARY, 60_000);
    }

    // --- c. the primary fails for outageMs under load --------------------------------------
    load.sent = 0;
    load.failed = 0;
    load.statuses.clear();
    lsm.resetCounts();
    lsm.setFaults({ outage: true }, PRIMARY);
    const health = new Map<string, number>();
    const servedBy = new Map<string, number>();
    const callsPer10s = { primary: [] as number[], replica: [] as number[] };
    const total = (region: string) => Object.values(lsm.counts(region)).reduce((a, b) => a + b, 0);
    let window = { primary: 0, replica: 0, startMs: performance.now() };
    const outageT0 = performance.now();
    while (performance.now() - outageT0 < outageMs) {
      for (const { url } of fleet) {
        const h = await healthOf(url);
        health.set(h?.status ?? 'unreachable', (health.get(h?.status ?? 'unreachable') ?? 0) + 1);
        const region = h?.services.secrets.region ?? 'none';
        servedBy.set(region, (servedBy.get(region) ?? 0) + 1);
      }
      if (performance.now() - window.startMs >= 10_000) {
        callsPer10s.primary.push(total(PRIMARY) - window.primary);
        callsPer10s.replica.push(total(REPLICA) - window.replica);
        window = { primary: total(PRIMARY), replica: total(REPLICA), startMs: performance.now() };
      }
      await sleep(1_000);
    }
    lsm.clearFaults(PRIMARY);
    const backOnPrimaryMs = await waitAll(fleet, PRIMARY, 120_000);
    loadOn = false;
    await Promise.all(loaders);

    // --- d. what a failover adds to one attempt -------------------------------------------
    const clients = [PRIMARY, REPLICA].map((region) => ({ region, client: createSecretsManagerClient({ region, endpoint: lsm.url, credentials }) }));
    const source = createAwsSource({ regions: clients as [(typeof clients)[0], ...typeof clients] });
    const timeLoads = async (n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await source.load(catalog.entries, new AbortController().signal);
        ms.push(performance.now() - t0);
      }
      return median(ms);
    };
    const primaryUp = await timeLoads(20);
    lsm.setFaults({ outage: true }, PRIMARY);
    const primaryDown = await timeLoads(20);
    lsm.clearFaults(PRIMARY);
    lsm.setFaults({ hang: true }, PRIMARY);
    const primaryHanging = await timeLoads(options.quick ? 1 : 3);
    lsm.clearFaults(PRIMARY);

    return {
      startupMs: { outage: outageStart.ms, hang: hangStartMs },
      rotation: rotations,
      outage: {
        durationMs: outageMs,
        sent: load.sent,
        failed: load.failed,
        statuses: Object.fromEntries(load.statuses),
        health: Object.fromEntries(health),
        servedBy: Object.fromEntries(servedBy),
        callsPer10s,
        backOnPrimaryMs,
      },
      attemptMs: { primaryUp, primaryDown, primaryHanging },
    };
  } finally {
    await stopAll([...running]);
    publisher.disconnect();
    await closeQuietly(lsm);
    await db.drop();
  }
}

async function closeQuietly(lsm: LocalSecretsManager): Promise<void> {
  await lsm.close().catch(() => {});
}

export function printRegionFigures(r: RegionFigures, quick: boolean): void {
  const f = (n: number) => n.toFixed(0);
  const list = (ms: number[]) => ms.map(f).join(', ');
  console.log('');
  console.log(`## regional outage: primary ${PRIMARY}, replica ${REPLICA}, ${INSTANCES} instances, TTL ${ttlMsOf(quick)} ms (${quick ? 'quick' : 'full'}, node ${process.version})`);
  console.log(`start-up, primary in outage: every instance up from the replica after ${list(r.startupMs.outage)} ms (deadline ${STARTUP_DEADLINE_MS})`);
  console.log(`start-up, primary hanging: every instance up from the replica after ${list(r.startupMs.hang)} ms (deadline ${STARTUP_DEADLINE_MS})`);
  for (const { lagMs, adoptMs, noticesApplied } of r.rotation) {
    console.log(
      `rotation just before the primary failed, replication lag ${lagMs} ms: new version in use on every instance after ${list(adoptMs)} ms ` +
        `(refresh notices applied so far per instance: ${noticesApplied.join(', ')})`,
    );
  }
  const o = r.outage;
  console.log(`primary failing ${o.durationMs / 1000} s under load: ${o.sent} requests, ${o.failed} failed ${JSON.stringify(o.statuses)}`);
  console.log(`/healthz statuses seen (each second per instance): ${JSON.stringify(o.health)}; serving region: ${JSON.stringify(o.servedBy)}`);
  console.log(`Secrets Manager calls per 10 s (3 instances): ${PRIMARY} [${o.callsPer10s.primary.join(', ')}], ${REPLICA} [${o.callsPer10s.replica.join(', ')}]`);
  console.log(`every instance back on the primary ${f(o.backOnPrimaryMs)} ms after it returned (target <= 30000)`);
  console.log(
    `one attempt (whole catalog), median: primary up ${r.attemptMs.primaryUp.toFixed(1)} ms, primary failing (5xx) ${r.attemptMs.primaryDown.toFixed(1)} ms, ` +
      `primary hanging ${f(r.attemptMs.primaryHanging)} ms (the region's share of the attempt, DEFAULT_REGION_TIMEOUT_MS, then the replica)`,
  );
}
