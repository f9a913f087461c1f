import { whatsappSaasCatalog, type WhatsappSaasSpec } from '../../../src/catalog/whatsapp-saas.js';
import { createAwsSource, createSecretsEngine, DEFAULT_STARTUP_TIMEOUT_MS, REFRESH_CHANNEL, type SecretsEngine } from '../../../src/engine/index.js';
import { createFleetSize } from '../../../src/service/fleet-size.js';
import { createRefreshBroadcast, DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, DEFAULT_NOTICE_INTERVAL_MS, type RefreshBroadcast } from '../../../src/service/refresh-broadcast.js';
import { SimClock } from './sim-clock.js';
import { SimPubSub } from './sim-pubsub.js';
import { PUBLISHED_QUOTAS_PER_SECOND, SimSecretsManager, type SimOperation } from './sim-secrets-manager.js';

export interface FleetSimOptions {
  readonly instances: number;
  readonly seed?: number;
  readonly startupTimeoutMs?: number;
  readonly budgetPerSecond?: number;
  /** Simulated hours of steady state (no notices) for callsPerInstanceHour. */
  readonly steadyHours?: number;
  readonly latencyMs?: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How long a notice phase may take before the instances that have not adopted count as not adopted. */
const ADOPTION_CAP_MS = 15 * 60_000;

/** A small seeded generator (mulberry32): the same seed, the same run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Plausible values of the right kinds: fake, and never printed. */
function initialValue(name: string, generation: number): string {
  if (name === 'DATABASE_URL') return 'postgresql://sim@127.0.0.1:5432/app';
  if (name === 'REDIS_URL') return 'redis://127.0.0.1:6379';
  if (name === 'OPENAI_MAX_TOKENS') return '1000';
  if (name === 'OPENAI_TEMPERATURE') return '0.7';
  if (name === 'OPENAI_MODEL') return 'gpt-4';
  return `sim-${name.toLowerCase()}-${generation}-0123456789abcdefghijklmnopqrstuvwxyz`;
}

interface Instance {
  readonly engine: SecretsEngine<WhatsappSaasSpec>;
  upAtMs: number | undefined;
  failed: boolean;
  adoptedAtMs: number | undefined;
  broadcast: RefreshBroadcast | undefined;
}

/**
 * N real engines in one process, each with its own AWS source (createAwsSource over its own
 * client of the simulated Secrets Manager), its own refresh broadcast (createRefreshBroadcast,
 * the service's notice handling, with the fleet size counted by PUBSUB NUMSUB) and its own
 * jitter, on one simulated clock. Phases: all N start at the same millisecond; a rotation of one
 * secret announced as `secrets rotate --notify` does; a full refresh announced as POST
 * /admin/refresh-secrets without names does; then hours of steady state.
 */
export async function runFleetSim(options: FleetSimOptions) {
  const {
    instances: n,
    seed = 1,
    startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS,
    budgetPerSecond = DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND,
    steadyHours = 3,
    latencyMs = 25,
  } = options;
  const wallStart = performance.now();
  const catalog = whatsappSaasCatalog();
  const clock = new SimClock(Date.UTC(2026, 0, 1));
  const store = new SimSecretsManager(clock, PUBLISHED_QUOTAS_PER_SECOND, latencyMs);
  const hub = new SimPubSub(clock);
  // Created a day before the fleet starts: no rotation grace window is open at start-up.
  for (const e of catalog.entries) store.put(e.awsId, initialValue(e.name, 0), clock.now() - DAY_MS);

  let watched: { name: string; versionId: string } | undefined;
  const fleet: Instance[] = [];
  for (let i = 0; i < n; i++) {
    const random = seeded(seed * 1_000_003 + i);
    const engine = createSecretsEngine({
      catalog,
      source: createAwsSource({ client: store.client(), region: 'us-east-1', clock }),
      clock,
      random,
      startupTimeoutMs,
    });
    const instance: Instance = { engine, upAtMs: undefined, failed: false, adoptedAtMs: undefined, broadcast: undefined };
    engine.onRefresh((outcome) => {
      if (watched === undefined || instance.adoptedAtMs !== undefined || !outcome.ok) return;
      if (outcome.changed.some((c) => c.name === watched!.name && c.versionId === watched!.versionId)) instance.adoptedAtMs = clock.now();
    });
    fleet.push(instance);
  }

  // Start-up: every instance at the same millisecond; each subscribes to notices once up, as the service does.
  store.phase = 'startup';
  const t0 = clock.now();
  let settled = 0;
  for (const [i, instance] of fleet.entries()) {
    instance.engine.initialize().then(
      () => {
        instance.upAtMs = clock.now() - t0;
        const publisher = hub.commands;
        instance.broadcast = createRefreshBroadcast({
          publisher: publisher as never,
          subscriber: hub.subscriber() as never,
          engine: instance.engine,
          instanceId: `sim-${i}`,
          channel: REFRESH_CHANNEL,
          clock,
          random: seeded(seed * 7_000_003 + i),
          budgetPerSecond,
          fleetSize: createFleetSize({ redis: publisher as never, channel: REFRESH_CHANNEL, clock }),
        });
        void instance.broadcast.start();
        settled++;
      },
      () => {
        instance.failed = true;
        settled++;
      },
    );
  }
  await clock.runUntil(t0 + startupTimeoutMs + 60_000, () => settled === n);
  const live = fleet.filter((f) => !f.failed);
  const upMs = live.map((f) => f.upAtMs!);
  // Quiet until every batch hold-off of start-up has expired.
  store.phase = 'quiet';
  await clock.runUntil(clock.now() + 90_000);

  /** Rotates `name` in the store, publishes `names` as the sender would, and times adoption. */
  async function noticePhase(phase: string, name: string, names: readonly string[], withVersion: boolean) {
    store.phase = phase;
    for (const f of live) f.adoptedAtMs = undefined;
    const entry = catalog.entry(name)!;
    const versionId = store.put(entry.awsId, initialValue(name, 1 + Math.floor(clock.now() / 1000)));
    watched = { name, versionId };
    const start = clock.now();
    const notice = { v: 1, origin: 'secrets-cli', reason: `sim ${phase}`, names, ...(withVersion && { versions: { [name]: versionId } }), at: new Date(start).toISOString() };
    await hub.commands.publish(REFRESH_CHANNEL, JSON.stringify(notice));
    await clock.runUntil(start + ADOPTION_CAP_MS, () => live.every((f) => f.adoptedAtMs !== undefined));
    const adopted = live.filter((f) => f.adoptedAtMs !== undefined).map((f) => f.adoptedAtMs! - start);
    watched = undefined;
    store.phase = 'quiet';
    // Past the notice interval, so the next phase is not a trailing refresh of this one.
    await clock.runUntil(clock.now() + DEFAULT_NOTICE_INTERVAL_MS * 2);
    return {
      p50Ms: percentile(adopted, 50),
      p99Ms: adopted.length < live.length ? Number.POSITIVE_INFINITY : percentile(adopted, 99),
      maxMs: Math.max(0, ...adopted),
      notAdopted: live.length - adopted.length,
    };
  }

  // What `secrets rotate admin-token --notify` leads to: one secret, its new version named.
  const oneSecret = await noticePhase('oneSecret', 'ADMIN_TOKEN', ['ADMIN_TOKEN'], true);
  // What POST /admin/refresh-secrets without names publishes: every name, no versions.
  const fullRefresh = await noticePhase(
    'fullRefresh',
    'OPENAI_API_KEY',
    catalog.entries.map((e) => e.name),
    false,
  );

  store.phase = 'steady';
  const steadyStart = clock.now();
  await clock.runUntil(steadyStart + steadyHours * HOUR_MS);
  for (const f of fleet) {
    f.engine.close();
    void f.broadcast?.close();
  }

  const phaseFigures = (phase: string) => {
    const byOp = store.counts.get(phase);
    const of = (op: SimOperation) => [...(byOp?.get(op)?.values() ?? [])];
    const sum = (op: SimOperation, key: 'received' | 'throttled') => of(op).reduce((a, c) => a + c[key], 0);
    const peak = (op: SimOperation) => Math.max(0, ...of(op).map((c) => c.received));
    const overQuota = (op: SimOperation) => new Set([...(byOp?.get(op)?.entries() ?? [])].filter(([, c]) => c.received > PUBLISHED_QUOTAS_PER_SECOND[op]).map(([second]) => second));
    return {
      /** Seconds in which either operation was asked more than its quota. */
      secondsOverQuota: new Set([...overQuota('BatchGetSecretValue'), ...overQuota('GetSecretValue')]).size,
      calls: { BatchGetSecretValue: sum('BatchGetSecretValue', 'received'), GetSecretValue: sum('GetSecretValue', 'received') },
      throttledCalls: sum('BatchGetSecretValue', 'throttled') + sum('GetSecretValue', 'throttled'),
      peakGetSecretValuePerSecond: peak('GetSecretValue'),
      peakBatchPerSecond: peak('BatchGetSecretValue'),
    };
  };
  const phases = {
    startup: { ...phaseFigures('startup'), p50Ms: percentile(upMs, 50), p99Ms: percentile(upMs, 99), maxMs: Math.max(0, ...upMs), failures: n - live.length, deadlineMs: startupTimeoutMs },
    oneSecret: { ...phaseFigures('oneSecret'), ...oneSecret },
    fullRefresh: { ...phaseFigures('fullRefresh'), ...fullRefresh },
    steady: { ...phaseFigures('steady'), hours: steadyHours },
    quiet: phaseFigures('quiet'),
  };
  const afterStartup = [phases.oneSecret, phases.fullRefresh, phases.steady, phases.quiet];
  const steadyCalls = phases.steady.calls.BatchGetSecretValue + phases.steady.calls.GetSecretValue;
  return {
    instances: n,
    startupP99Ms: phases.startup.p99Ms,
    startupFailures: phases.startup.failures,
    fullRefreshAdoptionP99Ms: fullRefresh.p99Ms,
    oneSecretAdoptionP99Ms: oneSecret.p99Ms,
    throttledCalls: Object.values(phases).reduce((a, p) => a + p.throttledCalls, 0),
    peakGetSecretValuePerSecond: Math.max(...afterStartup.map((p) => p.peakGetSecretValuePerSecond)),
    peakBatchPerSecond: Math.max(...afterStartup.map((p) => p.peakBatchPerSecond)),
    callsPerInstanceHour: Number((steadyCalls / Math.max(1, live.length) / steadyHours).toFixed(3)),
    budgetGetSecretValuePerSecond: budgetPerSecond,
    quotasPerSecond: PUBLISHED_QUOTAS_PER_SECOND,
    throttledCallsByPhase: Object.fromEntries(Object.entries(phases).map(([k, p]) => [k, p.throttledCalls])),
    phases,
    seed,
    latencyMs,
    wallMs: Math.round(performance.now() - wallStart),
  };
}

/** The keys `npm run bench:fleet-sim -- --json` promises (issue 19): a contract for whoever reads them. */
export const FLEET_SIM_CONTRACT_KEYS = [
  'instances',
  'startupP99Ms',
  'startupFailures',
  'fullRefreshAdoptionP99Ms',
  'oneSecretAdoptionP99Ms',
  'throttledCalls',
  'peakGetSecretValuePerSecond',
  'peakBatchPerSecond',
  'callsPerInstanceHour',
] as const;

export type FleetSimResult = Awaited<ReturnType<typeof runFleetSim>>;
