import type { Redis } from 'ioredis';
import type { Clock, Logger, RefreshOutcome, TimerHandle } from '../engine/index.js';
import { silentLogger, systemClock } from '../engine/index.js';
import { withTimeout } from './with-timeout.js';

/**
 * The Redis channel every instance listens on. A notice on it (`{ v: 1, origin, reason, at }`, as
 * RefreshNotice) makes each instance refresh its secrets; publish one after rotating a secret (the
 * operator CLI and the rotation function do) to have every instance use the new value within about
 * a second instead of at its next scheduled refresh. Anything else on the channel is ignored.
 */
export const REFRESH_CHANNEL = 'secrets:refresh';

/** The message body: where it came from and why. Never a value, never a secret name's value. */
export interface RefreshNotice {
  readonly v: 1;
  readonly origin: string;
  readonly reason: string;
  readonly at: string;
}

export interface RefreshBroadcast {
  /** Starts listening; resolves once SUBSCRIBE is sent (or queued while Redis is away). */
  start(): Promise<void>;
  /** Asks every other instance to refresh. Resolves false, never rejects, when Redis is down. */
  publish(reason: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface RefreshBroadcastOptions {
  readonly publisher: Pick<Redis, 'publish'>;
  /** A dedicated connection: a subscribed Redis connection can do nothing else. */
  readonly subscriber: Pick<Redis, 'subscribe' | 'unsubscribe' | 'on' | 'off'>;
  readonly engine: { refresh(): Promise<RefreshOutcome>; status(): { readonly refreshing: boolean } };
  /** This instance's id, so it ignores its own notices (it has refreshed already). */
  readonly instanceId: string;
  readonly channel?: string;
  /** Notices arriving within this window cause one refresh. */
  readonly debounceMs?: number;
  /**
   * After the subscriber reconnects it may have missed notices, so it refreshes, at most once per
   * this interval (a flapping connection must not hammer the secret store).
   */
  readonly reconnectRefreshIntervalMs?: number;
  readonly publishTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Told what became of each notice from another instance (for `secrets_refresh_notices_total`):
   * `applied` it scheduled a refresh, `coalesced` it joined one already pending (or running),
   * `ignored-malformed` it was not a notice at all. Never throws into the subscriber.
   */
  readonly onNotice?: (result: 'applied' | 'coalesced' | 'ignored-malformed') => void;
}

/**
 * Rotation propagation across instances: POST /admin/refresh-secrets (or the CLI) publishes a
 * notice on REFRESH_CHANNEL; every instance answers with one debounced `engine.refresh()`. A
 * notice that arrives while a refresh runs schedules exactly one more, since the running one may
 * have read the store before the rotation.
 */
export function createRefreshBroadcast(options: RefreshBroadcastOptions): RefreshBroadcast {
  const {
    publisher,
    subscriber,
    engine,
    instanceId,
    channel = REFRESH_CHANNEL,
    debounceMs = 100,
    reconnectRefreshIntervalMs = 30_000,
    publishTimeoutMs = 500,
    clock = systemClock,
    logger = silentLogger,
    onNotice,
  } = options;
  let timer: TimerHandle | undefined;
  let running = false;
  let again = false;
  let closed = false;
  let subscribedOnce = false;
  let lastReconnectRefreshMs = Number.NEGATIVE_INFINITY;
  const reasons = new Set<string>();

  /** Asks for a refresh; true when this started the debounce, false when it joined one pending or running. */
  function request(reason: string): boolean {
    if (closed) return false;
    reasons.add(reason);
    if (running) {
      const joined = again;
      again = true;
      return !joined;
    }
    if (timer !== undefined) return false;
    timer = clock.setTimeout(() => void run(), debounceMs);
    return true;
  }

  function tell(result: 'applied' | 'coalesced' | 'ignored-malformed'): void {
    try {
      onNotice?.(result);
    } catch {
      // An observer (metrics) must never break the subscriber.
    }
  }

  async function run(): Promise<void> {
    timer = undefined;
    running = true;
    const why = [...reasons];
    reasons.clear();
    try {
      // refresh() joins one in flight, which may predate the rotation: let it finish, then ours.
      if (engine.status().refreshing) await engine.refresh();
      const outcome = await engine.refresh();
      if (outcome.ok) {
        logger.info(
          { event: 'secrets.refresh_notice_applied', reasons: why, changed: outcome.changed.map((c) => c.name) },
          'Refreshed secrets on a refresh notice',
        );
      } else {
        logger.warn({ event: 'secrets.refresh_notice_failed', reasons: why, code: outcome.code }, 'Refresh on notice failed; keeping cached values');
      }
    } finally {
      running = false;
      if (again && !closed) {
        again = false;
        request('notice-during-refresh');
      }
    }
  }

  function onMessage(ch: string, message: string): void {
    if (ch !== channel) return;
    const origin = noticeOrigin(message);
    if (origin === undefined) {
      // Junk on the channel (a stray PUBLISH, another tool's format) costs no AWS call.
      logger.warn({ event: 'secrets.refresh_notice_malformed', bytes: Buffer.byteLength(message) }, 'Ignored a message on the refresh channel that is not a refresh notice');
      tell('ignored-malformed');
      return;
    }
    if (origin === instanceId || closed) return;
    tell(request('notice') ? 'applied' : 'coalesced');
  }

  function onReady(): void {
    if (!subscribedOnce) {
      subscribedOnce = true;
      return;
    }
    const now = clock.now();
    if (now - lastReconnectRefreshMs < reconnectRefreshIntervalMs) return;
    lastReconnectRefreshMs = now;
    request('subscriber-reconnected');
  }

  return {
    async start() {
      subscriber.on('message', onMessage);
      subscriber.on('ready', onReady);
      try {
        await subscriber.subscribe(channel);
        subscribedOnce = true;
      } catch (err) {
        logger.warn({ event: 'secrets.refresh_subscribe_failed', code: (err as { code?: string }).code ?? 'UnknownError' }, 'Could not subscribe to refresh notices yet');
      }
    },
    async publish(reason) {
      const notice: RefreshNotice = { v: 1, origin: instanceId, reason, at: new Date(clock.now()).toISOString() };
      try {
        const receivers = await withTimeout(publisher.publish(channel, JSON.stringify(notice)), publishTimeoutMs, clock);
        logger.info({ event: 'secrets.refresh_notice_published', reason, receivers }, 'Published a refresh notice');
        return true;
      } catch (err) {
        logger.warn(
          { event: 'secrets.refresh_notice_not_published', reason, code: (err as { code?: string }).code ?? 'UnknownError' },
          'Could not publish the refresh notice; other instances refresh on their schedule',
        );
        return false;
      }
    },
    async close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      // Bounded: while Redis is away an UNSUBSCRIBE would wait in the offline queue.
      await withTimeout(subscriber.unsubscribe(channel), publishTimeoutMs, clock).catch(() => {});
    },
  };
}

/** The notice's origin, or undefined when the message is not a RefreshNotice (`v: 1`, a string origin). */
function noticeOrigin(message: string): string | undefined {
  let notice: unknown;
  try {
    notice = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (notice === null || typeof notice !== 'object') return undefined;
  const { v, origin } = notice as Partial<Record<keyof RefreshNotice, unknown>>;
  return v === 1 && typeof origin === 'string' ? origin : undefined;
}
