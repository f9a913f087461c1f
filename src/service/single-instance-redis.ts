import type { Redis } from 'ioredis';

/** Why a Redis call was not made: the instance runs alone, by choice (see dev-dependencies.ts). */
export class SingleInstanceError extends Error {
  readonly code = 'SingleInstance';

  constructor() {
    super('Running as a single instance: no Redis');
    this.name = 'SingleInstanceError';
  }
}

/**
 * The app's Redis port when `npm run dev` found no Redis to use: every call fails at once, so the
 * admin throttle counts in this process's memory (its fallback), and nothing ever connects or
 * retries in the background.
 */
export function singleInstanceRedis(): Pick<Redis, 'eval' | 'ping' | 'status'> {
  return {
    status: 'end',
    eval: () => Promise.reject(new SingleInstanceError()),
    ping: () => Promise.reject(new SingleInstanceError()),
  } as Pick<Redis, 'eval' | 'ping' | 'status'>;
}
