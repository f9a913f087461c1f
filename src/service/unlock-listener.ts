import type { Redis } from 'ioredis';
import { parseUnlockNotice, UNLOCK_CHANNEL } from '../admin-lockout/unlock.js';
import type { Logger } from '../engine/index.js';
import { driverErrorCode, silentLogger, withDeadline } from '../engine/index.js';
import type { FailureThrottle } from './failure-throttle.js';

export interface UnlockListenerOptions {
  /** The subscriber connection (shared with refresh notices: a subscribed connection can do nothing else). */
  readonly subscriber: Pick<Redis, 'subscribe' | 'unsubscribe' | 'on' | 'off'>;
  readonly throttle: Pick<FailureThrottle, 'forget'>;
  /** The throttle's key prefix: a notice for another prefix is not for this throttle. */
  readonly keyPrefix: string;
  readonly logger?: Logger;
  readonly channel?: string;
}

export interface UnlockListener {
  /** Subscribes; resolves once subscribed, or at once with a warning when Redis is not there yet (ioredis subscribes when it connects). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Obeys `secrets unlock`: on its notice this instance forgets what its memory holds for the
 * address (a lockout counted while Redis was down would otherwise come back the next time Redis
 * goes down) and logs `admin.unlocked` with who unlocked what. Junk on the channel is ignored.
 */
export function listenForUnlocks(options: UnlockListenerOptions): UnlockListener {
  const { subscriber, throttle, keyPrefix, logger = silentLogger, channel = UNLOCK_CHANNEL } = options;
  const onMessage = (ch: string, message: string) => {
    if (ch !== channel) return;
    const notice = parseUnlockNotice(message);
    if (notice === undefined || notice.keyPrefix !== keyPrefix) return;
    const heldInMemory = throttle.forget(notice.address);
    logger.warn(
      { event: 'admin.unlocked', clientAddress: notice.address, by: notice.by, at: notice.at, heldInMemory },
      'Admin client unlocked by an operator',
    );
  };
  return {
    async start() {
      subscriber.on('message', onMessage);
      try {
        await subscriber.subscribe(channel);
      } catch (err) {
        logger.warn({ event: 'admin.unlock_subscribe_failed', code: driverErrorCode(err) }, 'Could not subscribe to unlock notices yet');
      }
    },
    async close() {
      subscriber.off('message', onMessage);
      // Bounded: with Redis down the command waits in the subscriber's offline queue, and a
      // shutdown must not wait on it.
      await withDeadline(subscriber.unsubscribe(channel), { timeoutMs: 1_000 }).catch(() => {});
    },
  };
}
