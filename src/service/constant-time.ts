import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/**
 * Index of the accepted value that `presented` equals, or -1. Compares SHA-256 digests so the
 * time taken reveals neither the accepted values' lengths nor where a guess first differs, and
 * compares against every accepted value (current and previous) without stopping early.
 * (fastify-bearer-auth `lib/compare.js` does the same for bearer tokens.)
 */
export function matchIndex(presented: string | Buffer | undefined, accepted: readonly (string | Buffer)[]): number {
  if (presented === undefined) return -1;
  const p = digest(presented);
  let found = -1;
  for (let i = 0; i < accepted.length; i++) {
    if (timingSafeEqual(p, digest(accepted[i]!)) && found < 0) found = i;
  }
  return found;
}

export function matchesAny(presented: string | Buffer | undefined, accepted: readonly (string | Buffer)[]): boolean {
  return matchIndex(presented, accepted) >= 0;
}
