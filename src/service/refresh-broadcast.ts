import type { Redis } from 'ioredis';
import type { Catalog, CatalogSpec, Clock, Logger, NoticeProblem, RefreshOptions, RefreshOutcome, SecretName, TimerHandle } from '../engine/index.js';
import { driverErrorCode, parseRefreshNotice, REFRESH_CHANNEL, refreshNoticeMessage, silentLogger, systemClock, withDeadline } from '../engine/index.js';
import { createReplicaVersionWait } from './replica-version-wait.js';

export { REFRESH_CHANNEL };
export type { RefreshNotice } from '../engine/index.js';

/** At most one notice-driven refresh per instance in this window (plus one trailing refresh). */
export const DEFAULT_NOTICE_INTERVAL_MS = 5_000;
/**
 * Each instance waits a random [0, spreadMs] before it fetches, so a fleet's calls are spread
 * over that window instead of arriving in the same millisecond: 1,000 instances reading one
 * secret each in 250 ms is about 4,000 GetSecretValue calls a second, under its 10,000/s quota.
 */
export const DEFAULT_NOTICE_SPREAD_MS = 250;
const JUNK_LOG_INTERVAL_MS = 60_000;
const MAX_LOGGED_REASONS = 10;

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
  readonly channel?: string;
  /** At most one notice-driven refresh per this interval; notices meanwhile join one trailing refresh. */
  readonly minIntervalMs?: number;
  /** Random delay [0, spreadMs] before each notice-driven fetch. */
  readonly spreadMs?: number;
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
 * quota is 100 requests a second per region), after a random spread delay. Notices are a
 * request, not a command: anyone who can publish on Redis can send one, so a malformed one is
 * ignored (counted, logged at most once a minute, never its content), and well-formed ones are
 * coalesced: at most one refresh per `minIntervalMs`, the names of the notices that arrive
 * meanwhile gathered into exactly one trailing refresh, so the last genuine notice is never lost
 * and a flood costs a few calls, not one per message.
 */
export function createRefreshBroadcast<C extends CatalogSpec>(options: RefreshBroadcastOptions<C>): RefreshBroadcast {
  const {
    publisher,
    subscriber,
    engine,
    instanceId,
    channel = REFRESH_CHANNEL,
    minIntervalMs = DEFAULT_NOTICE_INTERVAL_MS,
    spreadMs = DEFAULT_NOTICE_SPREAD_MS,
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
  let timer: TimerHandle | undefined;
  let running = false;
  let closed = false;
  let subscribedOnce = false;
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

  function schedule(): void {
    const waitMs = Math.max(0, lastStartMs + minIntervalMs - clock.now()) + Math.floor(random() * (spreadMs + 1));
    timer = clock.setTimeout(() => void run(), waitMs);
  }

  /** Adds names to the next refresh: 'applied' when this starts one, 'coalesced' when one was due anyway. */
  function request(names: readonly string[], reason: string): 'applied' | 'coalesced' {
    for (const n of names) pending.add(n);
    // A few reasons are enough for the log line; a flood must not grow it.
    if (reasons.size < MAX_LOGGED_REASONS) reasons.add(reason);
    if (closed || timer !== undefined || running) return 'coalesced';
    const limited = clock.now() < lastStartMs + minIntervalMs;
    schedule();
    return limited ? 'coalesced' : 'applied';
  }

  async function run(): Promise<void> {
    timer = undefined;
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
      replicaWait.settled(names, outcome);
      if (outcome.ok) {
        logger.info(
          { event: 'secrets.refresh_notice_applied', reasons: why, names, changed: outcome.changed.map((c) => c.name) },
          'Refreshed secrets on a refresh notice',
        );
      } else {
        logger.warn({ event: 'secrets.refresh_notice_failed', reasons: why, names, code: outcome.code }, 'Refresh on notice failed; keeping cached values');
      }
    } finally {
      running = false;
      // The trailing refresh: notices that arrived while this one ran.
      if (pending.size > 0 && !closed) schedule();
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
    tell(request(parsed.notice.names, parsed.notice.reason));
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
      timer?.cancel();
      timer = undefined;
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      // Bounded: while Redis is away an UNSUBSCRIBE would wait in the offline queue.
      await withDeadline(subscriber.unsubscribe(channel), { timeoutMs: publishTimeoutMs, clock }).catch(() => {});
    },
  };
}
