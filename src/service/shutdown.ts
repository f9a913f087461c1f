import type { Logger } from '../engine/index.js';
import { driverErrorCode } from '../engine/index.js';

export interface GracefulShutdownOptions {
  readonly logger: Logger;
  /** Stops accepting, drains in-flight requests, closes clients: everything the process holds. */
  readonly close: () => Promise<void>;
  /** Past this, give up on a clean close and exit non-zero. */
  readonly timeoutMs: number;
  readonly exit: (code: number) => void;
  readonly signals?: readonly NodeJS.Signals[];
  readonly process?: Pick<NodeJS.Process, 'on'>;
}

/**
 * On SIGTERM (or SIGINT): run `close` once and exit 0; exit 1 if it fails or outlives
 * `timeoutMs`. A second signal while closing is ignored: the deadline already bounds it.
 */
export function installGracefulShutdown(options: GracefulShutdownOptions): void {
  const { logger, close, timeoutMs, exit, signals = ['SIGTERM', 'SIGINT'], process: proc = process } = options;
  let closing = false;
  for (const signal of signals) {
    proc.on(signal, () => {
      if (closing) return;
      closing = true;
      logger.info({ event: 'service.shutdown', signal }, 'Shutting down: draining requests');
      const deadline = setTimeout(() => {
        logger.error({ event: 'service.shutdown_timeout', timeoutMs }, 'Shutdown took too long; exiting');
        exit(1);
      }, timeoutMs);
      deadline.unref();
      close().then(
        () => {
          clearTimeout(deadline);
          logger.info({ event: 'service.stopped' }, 'Stopped');
          exit(0);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          logger.error({ event: 'service.shutdown_failed', code: driverErrorCode(err) }, 'Shutdown failed');
          exit(1);
        },
      );
    });
  }
}
