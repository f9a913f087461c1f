import { performance } from 'node:perf_hooks';
import type { Clock } from '../engine/index.js';
import { driverErrorCode, systemClock, withDeadline } from '../engine/index.js';

export interface DependencyHealth {
  /** `off`: deliberately not used (a single instance without Redis in `npm run dev`); not a fault. */
  readonly status: 'up' | 'down' | 'off';
  readonly latencyMs: number;
  /** Why it is down or off: a driver or server code, `Timeout`, `NotReady`, `SingleInstance`. Never a message. */
  readonly code?: string;
}

export type Probe = () => Promise<unknown>;

/** One probe round's results, and how long ago that round finished. */
export interface HealthReport<K extends string> {
  readonly dependencies: Record<K, DependencyHealth>;
  /** Milliseconds since the round these results come from finished (0: this call's own round). */
  readonly ageMs: number;
}

/** A dependency's probe result, and how old it is: probes are shared for a short interval. */
export type DependencyHealthAge = DependencyHealth & {
  /** Milliseconds since the probe round this result comes from finished. */
  readonly ageMs: number;
};

/** Each dependency's result with the report's age, the form /healthz and the status page show. */
export function withAge<K extends string>(report: HealthReport<K>): Record<K, DependencyHealthAge> {
  const out = {} as Record<K, DependencyHealthAge>;
  for (const name of Object.keys(report.dependencies) as K[]) out[name] = { ...report.dependencies[name], ageMs: report.ageMs };
  return out;
}

export interface HealthChecks<K extends string> {
  check(): Promise<HealthReport<K>>;
}

export interface HealthChecksOptions<K extends string> {
  readonly probes: Readonly<Record<K, Probe>>;
  /** Each probe's deadline: a health request answers within about this long whatever the dependencies do. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  /** Dependencies not used at all, with the code that says why: reported `off`, never probed. */
  readonly off?: Readonly<Partial<Record<K, string>>>;
  /**
   * How long one round's results answer every caller (0, the default: each call after a round
   * has finished starts a new one). Load balancers, orchestrators and monitors each probe
   * /healthz; with this, any number of them cost one database and one Redis round trip per interval.
   */
  readonly maxAgeMs?: number;
}

/**
 * Dependency probes for /healthz, run in parallel, each bounded by `timeoutMs`. A probe already
 * in flight is joined rather than started again, so a burst of health requests (or a hung
 * dependency) never queues probes behind each other or piles load on the dependency. Callers
 * within `maxAgeMs` of a finished round share its results (and are told their age); callers
 * while a round runs join it.
 */
export function createHealthChecks<K extends string>(options: HealthChecksOptions<K>): HealthChecks<K> {
  const { probes, timeoutMs = 1_000, clock = systemClock, off = {}, maxAgeMs = 0 } = options;
  let round: Promise<Record<K, DependencyHealth>> | undefined;
  let last: { readonly dependencies: Record<K, DependencyHealth>; readonly finishedMs: number } | undefined;
  // The probe itself, not the caller's deadline: a hung probe is joined, never started twice.
  const inFlight = new Map<K, { readonly work: Promise<unknown>; readonly startedMs: number }>();

  function run(name: K, probe: Probe): Promise<DependencyHealth> {
    let current = inFlight.get(name);
    if (current === undefined) {
      const work = Promise.resolve().then(probe);
      current = { work, startedMs: performance.now() };
      inFlight.set(name, current);
      const clear = () => inFlight.delete(name);
      work.then(clear, clear);
    }
    const { work, startedMs } = current;
    const latency = () => Math.round((performance.now() - startedMs) * 10) / 10;
    return withDeadline(work, { timeoutMs, clock }).then(
      (): DependencyHealth => ({ status: 'up', latencyMs: latency() }),
      (err: unknown): DependencyHealth => ({ status: 'down', latencyMs: latency(), code: driverErrorCode(err) }),
    );
  }

  async function probeAll(): Promise<Record<K, DependencyHealth>> {
    const names = Object.keys(probes) as K[];
    const results = await Promise.all(
      names.map((n) => {
        const why = (off as Partial<Record<K, string>>)[n];
        return why === undefined ? run(n, probes[n]) : Promise.resolve<DependencyHealth>({ status: 'off', latencyMs: 0, code: why });
      }),
    );
    return Object.fromEntries(names.map((n, i) => [n, results[i]!])) as Record<K, DependencyHealth>;
  }

  return {
    async check() {
      const now = clock.now();
      if (last !== undefined && now - last.finishedMs < maxAgeMs) return { dependencies: last.dependencies, ageMs: now - last.finishedMs };
      if (round === undefined) {
        // probeAll never rejects: each probe's failure is a `down` result.
        round = probeAll().then((dependencies) => {
          last = { dependencies, finishedMs: clock.now() };
          round = undefined;
          return dependencies;
        });
      }
      const dependencies = await round;
      return { dependencies, ageMs: Math.max(0, clock.now() - (last?.finishedMs ?? clock.now())) };
    },
  };
}
