import type { Redis } from 'ioredis';
import type { Catalog, CatalogSpec, Clock, Logger, NoticeProblem, RefreshOptions, RefreshOutcome, SecretName, TimerHandle } from '../engine/index.js';
import { driverErrorCode, parseRefreshNotice, REFRESH_CHANNEL, refreshNoticeMessage, silentLogger, systemClock, withDeadline } from '../engine/index.js';
import { SINGLE_INSTANCE_FLEET, type FleetSize } from './fleet-size.js';
import { createReplicaVersionWait } from './replica-version-wait.js';

export { REFRESH_CHANNEL };
export type { RefreshNotice } from '../engine/index.js';

/** At most one notice-driven refresh per instance in this window (plus one trailing refresh). */
export const DEFAULT_NOTICE_INTERVAL_MS = 5_000;
/**
 * The floor of the spread: each instance waits a random [0, spread] before it fetches, so even a
 * small fleet's calls do not arrive in the same millisecond. A larger fleet spreads over longer
 * (see `noticeSpreadMs`).
 */
export const DEFAULT_NOTICE_SPREAD_MS = 250;
/**
 * The share of the region's GetSecretValue quota (10,000 requests a second, raisable) that the
 * fleet's notice-driven fetches may use together: half, leaving the rest to start-ups, other
 * services of the account and retries. Lower it where the account shares the quota, raise it
 * where AWS raised the quota.
 */
export const DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND = 5_000;
/**
 * A notice refresh that failed transiently is retried at most this many times, each at least
 * NOTICE_RETRY_MIN_MS after the last start (the engine's own retry floor: one attempt per 10 s
 * through an outage) and over a window doubled per failure; then the scheduled refresh takes over.
 */
export const MAX_NOTICE_RETRIES = 3;
const NOTICE_RETRY_MIN_MS = 10_000;
const JUNK_LOG_INTERVAL_MS = 60_000;
const MAX_LOGGED_REASONS = 10;

/**
 * GetSecretValue calls a notice-driven refresh of `names` is expected to make: one per secret,
 * plus its AWSPREVIOUS for a secret that accepts a previous value, when the notice names it
 * (naming a secret says it changed, and a changed one of those costs a second call). A full
 * refresh says nothing of any one secret: one call each.
 */
export function expectedNoticeCalls(catalog: Pick<Catalog, 'entries'>, names: ReadonlySet<string>): number {
  const full = catalog.entries.every((e) => names.has(e.name));
  let calls = 0;
  for (const e of catalog.entries) if (names.has(e.name)) calls += !full && e.spec.acceptsPrevious === true ? 2 : 1;
  return calls;
}

/**
 * The window over which every instance of a fleet of `fleetSize` spreads its `calls` fetches, so
 * that together they stay within `budgetPerSecond`: calls × fleet ÷ rate, never under `floorMs`.
 * Instances pick their moments at random and each makes its calls together, so a second of the
 * window sees the mean rate r give or take √(calls × r); the rate aimed at is the budget less four
 * of those standard deviations, so that even the busiest second stays within the budget.
 */
export function noticeSpreadMs(calls: number, fleetSize: number, budgetPerSecond: number, floorMs: number): number {
  const z = 4 * Math.sqrt(Math.max(1, calls));
  // r + z·√r = budget, solved for √r.
  const rootRate = (-z + Math.sqrt(z * z + 4 * budgetPerSecond)) / 2;
  const rate = Math.max(1, rootRate * rootRate);
  return Math.max(floorMs, Math.ceil((calls * Math.max(1, fleetSize) * 1000) / rate));
}

/** What became of one notice received from another sender (for the metrics of the service). */
export type NoticeResult = 'applied' | 'coalesced' | 'ignored-malformed';

export interface RefreshBroadcast {
  /** Starts listening; resolves once SUBSCRIBE is sent (or queued while Redis is away). */
  start(): Promise<void>;
  /**
   * Asks every other instance to refresh `names` (catalog names). Resolves false, never
   * rejects, when Redis is down.
   */
  publish(reason: string, names: readonly string[], versions?: Readonly<Record<string, string>>): Promise<boolean>;
  close(): Promise<void>;
}

/** What the broadcast needs of the engine: its catalog's names and a refresh of some of them. */
export interface NoticeEngine<C extends CatalogSpec> {
  readonly catalog: Catalog<C>;
  refresh(options: RefreshOptions<C>): Promise<RefreshOutcome>;
  /** The versions held, to tell whether a replica region has served a notice's version yet. */
  status?(): { readonly secrets: Readonly<Record<string, { readonly versionId: string | null }>> };
}

export interface RefreshBroadcastOptions<C extends CatalogSpec = CatalogSpec> {
  readonly publisher: Pick<Redis, 'publish'>;
  /** A dedicated connection: a subscribed Redis connection can do nothing else. */
  readonly subscriber: Pick<Redis, 'subscribe' | 'unsubscribe' | 'on' | 'off'>;
  readonly engine: NoticeEngine<C>;
  /** This instance's id, so it ignores its own notices (it has refreshed already). */
  readonly instanceId: string;
  /**
   * The channel to listen and publish on: `refreshChannel(catalog, source kind)`, as the entry
   * wires it. Required: a default shared by every project and source would let one refresh another.
   */
  readonly channel: string;
  /** At most one notice-driven refresh per this interval; notices meanwhile join one trailing refresh. */
  readonly minIntervalMs?: number;
  /** The floor of the spread: a random delay in [0, at least this] before each notice-driven fetch. */
  readonly spreadMs?: number;
  /** The fleet's share of the GetSecretValue quota for notice-driven fetches, calls a second. */
  readonly budgetPerSecond?: number;
  /** The number of instances, for the spread; a fleet of one (the floor) when not given. */
  readonly fleetSize?: FleetSize;
  /**
   * After the subscriber reconnects it may have missed notices, so it refreshes every secret, at
   * most once per this interval (a flapping connection must not hammer the secret store).
   */
  readonly reconnectRefreshIntervalMs?: number;
  readonly publishTimeoutMs?: number;
  /** Called once per notice received from another sender. */
  readonly onNotice?: (result: 'applied' | 'coalesced' | 'ignored-malformed') => void;
  readonly clock?: Clock;
  /** [0, 1), for the spread; injected so tests choose it. */
  readonly random?: () => number;
  readonly logger?: Logger;
  /** How long a notice's version is waited for in a replica region (see replica-version-wait.ts). */
  readonly replicaLagBoundMs?: number;
}

/**
 * Rotation propagation across instances. A notice on REFRESH_CHANNEL names the secrets that
 * changed; every other instance re-reads those (GetSecretValue each, never the batch call, whose
 * quota is 100 requests a second per region), after a random delay across a window sized from
 * the fleet (`noticeSpreadMs`: the whole fleet's calls within the budget). Notices are a
 * request, not a command: anyone who can publish on Redis can send one, so a malformed one is
 * ignored (counted, logged at most once a minute, never its content), and well-formed ones are
 * coalesced: at most one refresh per `minIntervalMs`, the names of the notices that arrive
 * meanwhile gathered into exactly one trailing refresh, so the last genuine notice is never lost
 * and a flood costs a few calls, not one per message. A refresh that failed transiently
 * (throttling, 5xx, timeouts) is retried over a window doubled per failure, so the retries of a
 * whole fleet stay within the same budget instead of adding to the load that throttled it.
 */
export function createRefreshBroadcast<C extends CatalogSpec>(options: RefreshBroadcastOptions<C>): RefreshBroadcast {
  const {
    publisher,
    subscriber,
    engine,
    instanceId,
    channel,
    minIntervalMs = DEFAULT_NOTICE_INTERVAL_MS,
    spreadMs = DEFAULT_NOTICE_SPREAD_MS,
    budgetPerSecond = DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND,
    fleetSize = SINGLE_INSTANCE_FLEET,
    reconnectRefreshIntervalMs = 30_000,
    publishTimeoutMs = 500,
    onNotice,
    clock = systemClock,
    random = Math.random,
    logger = silentLogger,
  } = options;
  const allNames = engine.catalog.entries.map((e) => e.name);
  /** Names of the notices not yet covered by a refresh that has started. */
  const pending = new Set<string>();
  const reasons = new Set<string>();
  /** The refresh waiting for its moment: `fraction` of its window past `baseMs`. */
  let scheduled: { handle: TimerHandle; baseMs: number; fraction: number; windowMs: number } | undefined;
  /** Counting the fleet before a refresh is scheduled. */
  let sizing = false;
  let fleet = 1;
  let running = false;
  let closed = false;
  let subscribedOnce = false;
  /** Consecutive notice refreshes that failed transiently: each doubles the next window. */
  let failures = 0;
  let lastStartMs = Number.NEGATIVE_INFINITY;
  let lastReconnectRefreshMs = Number.NEGATIVE_INFINITY;
  // A notice's version that a replica region does not hold yet is asked for again, with backoff.
  const replicaWait = createReplicaVersionWait({
    clock,
    random,
    logger,
    retry: (names) => void request(names, 'replica-lag'),
    held: (name) => engine.status?.().secrets[name]?.versionId,
    ...(options.replicaLagBoundMs !== undefined && { boundMs: options.replicaLagBoundMs }),
  });
  const junk = { sinceLog: 0, total: 0, lastLogMs: Number.NEGATIVE_INFINITY, problems: new Map<NoticeProblem, number>() };

  function windowMs(): number {
    return noticeSpreadMs(expectedNoticeCalls(engine.catalog, pending), fleet, budgetPerSecond, spreadMs) * 2 ** failures;
  }

  function setTimer(baseMs: number, fraction: number, window: number): void {
    const atMs = baseMs + Math.floor(fraction * (window + 1));
    scheduled = { handle: clock.setTimeout(() => void run(), atMs - clock.now()), baseMs, fraction, windowMs: window };
  }

  /** Counts the fleet (cached), then schedules the refresh of what is pending. */
  function arm(): void {
    sizing = true;
    void fleetSize
      .size()
      .catch(() => fleet)
      .then((n) => {
        sizing = false;
        fleet = n;
        if (closed || running || scheduled !== undefined || pending.size === 0) return;
        const gapMs = failures > 0 ? Math.max(minIntervalMs, NOTICE_RETRY_MIN_MS) : minIntervalMs;
        setTimer(Math.max(clock.now(), lastStartMs + gapMs), random(), windowMs());
      });
  }

  /**
   * More names joined a scheduled refresh: more calls, so a wider window. The instance keeps its
   * place in it (the same fraction), which is later than before, never earlier.
   */
  function widen(): void {
    if (scheduled === undefined) return;
    const window = windowMs();
    if (window <= scheduled.windowMs) return;
    scheduled.handle.cancel();
    setTimer(scheduled.baseMs, scheduled.fraction, window);
  }

  /** Adds names to the next refresh: 'applied' when this starts one, 'coalesced' when one was due anyway. */
  function request(names: readonly string[], reason: string): 'applied' | 'coalesced' {
    for (const n of names) pending.add(n);
    // A few reasons are enough for the log line; a flood must not grow it.
    if (reasons.size < MAX_LOGGED_REASONS) reasons.add(reason);
    if (closed || running || sizing) return 'coalesced';
    if (scheduled !== undefined) {
      widen();
      return 'coalesced';
    }
    const limited = clock.now() < lastStartMs + minIntervalMs;
    arm();
    return limited ? 'coalesced' : 'applied';
  }

  async function run(): Promise<void> {
    scheduled = undefined;
    if (closed) return;
    running = true;
    lastStartMs = clock.now();
    // Only catalog names get here: parseRefreshNotice checked each against the engine's catalog.
    const names = [...pending] as SecretName<C>[];
    const why = [...reasons];
    pending.clear();
    reasons.clear();
    try {
      // Fresh: an attempt in flight may have read the store before the change; this one starts after.
      const outcome = await engine.refresh({ names, fresh: true, reason: 'notice' });
      // Throttled, 5xx, timed out: asked again later, over a wider window (see windowMs).
      const failed = outcome.ok ? outcome.failed.filter((f) => f.transient).map((f) => f.name) : outcome.transient ? names : [];
      const retry = failures < MAX_NOTICE_RETRIES ? failed : [];
      for (const n of retry) pending.add(n);
      failures = retry.length > 0 ? failures + 1 : 0;
      replicaWait.settled(names, outcome);
      if (outcome.ok) {
        logger.info(
          { event: 'secrets.refresh_notice_applied', reasons: why, names, changed: outcome.changed.map((c) => c.name), ...(retry.length > 0 && { retrying: retry }) },
          'Refreshed secrets on a refresh notice',
        );
      } else {
        logger.warn(
          { event: 'secrets.refresh_notice_failed', reasons: why, names, code: outcome.code, retrying: retry.length > 0 },
          'Refresh on notice failed; keeping cached values',
        );
      }
      if (retry.length > 0 && reasons.size < MAX_LOGGED_REASONS) reasons.add('retry');
    } finally {
      running = false;
      // The trailing refresh: notices that arrived while this one ran, and what is to be retried.
      if (pending.size > 0 && !closed) arm();
    }
  }

  /** Tells the observer; `request` is called before, never as its argument (an optional call skips those). */
  function tell(result: NoticeResult): void {
    try {
      onNotice?.(result);
    } catch {
      // An observer (metrics) must never break the subscriber.
    }
  }

  function ignored(problem: NoticeProblem): void {
    junk.sinceLog++;
    junk.total++;
    junk.problems.set(problem, (junk.problems.get(problem) ?? 0) + 1);
    tell('ignored-malformed');
    const now = clock.now();
    if (now - junk.lastLogMs < JUNK_LOG_INTERVAL_MS) return;
    // Counts and problem codes only: the message is whatever someone with Redis access wrote.
    logger.warn(
      { event: 'secrets.refresh_notice_ignored', ignored: junk.sinceLog, ignoredTotal: junk.total, problems: Object.fromEntries(junk.problems) },
      'Ignored malformed messages on the refresh channel',
    );
    junk.lastLogMs = now;
    junk.sinceLog = 0;
    junk.problems.clear();
  }

  function onMessage(ch: string, message: string): void {
    if (ch !== channel || closed) return;
    const parsed = parseRefreshNotice(message, engine.catalog);
    if (!parsed.ok) return ignored(parsed.problem);
    if (parsed.notice.origin === instanceId) return;
    if (parsed.notice.versions !== undefined) replicaWait.expect(parsed.notice.versions);
    // A notice that names no secrets asks for all of them.
    tell(request(parsed.notice.names.length === 0 ? allNames : parsed.notice.names, parsed.notice.reason));
  }

  function onReady(): void {
    if (!subscribedOnce) {
      subscribedOnce = true;
      return;
    }
    const now = clock.now();
    if (now - lastReconnectRefreshMs < reconnectRefreshIntervalMs) return;
    lastReconnectRefreshMs = now;
    request(allNames, 'subscriber-reconnected');
  }

  return {
    async start() {
      subscriber.on('message', onMessage);
      subscriber.on('ready', onReady);
      try {
        await subscriber.subscribe(channel);
        subscribedOnce = true;
      } catch (err) {
        logger.warn({ event: 'secrets.refresh_subscribe_failed', code: driverErrorCode(err) }, 'Could not subscribe to refresh notices yet');
      }
    },
    async publish(reason, names, versions) {
      try {
        const message = refreshNoticeMessage(engine.catalog, {
          origin: instanceId,
          reason,
          names,
          ...(versions !== undefined && { versions }),
          at: new Date(clock.now()).toISOString(),
        });
        const receivers = await withDeadline(publisher.publish(channel, message), { timeoutMs: publishTimeoutMs, clock });
        // Every instance subscribes once, this one included: the receivers are the fleet.
        fleetSize.observe(receivers);
        logger.info({ event: 'secrets.refresh_notice_published', reason, names, receivers }, 'Published a refresh notice');
        return true;
      } catch (err) {
        logger.warn(
          { event: 'secrets.refresh_notice_not_published', reason, code: driverErrorCode(err) },
          'Could not publish the refresh notice; other instances refresh on their schedule',
        );
        return false;
      }
    },
    async close() {
      closed = true;
      replicaWait.close();
      scheduled?.handle.cancel();
      scheduled = undefined;
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      // Bounded: while Redis is away an UNSUBSCRIBE would wait in the offline queue.
      await withDeadline(subscriber.unsubscribe(channel), { timeoutMs: publishTimeoutMs, clock }).catch(() => {});
    },
  };
}
