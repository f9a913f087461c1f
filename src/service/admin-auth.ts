import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalAddress } from '../admin-lockout/unlock.js';
import type { Clock, Logger } from '../engine/index.js';
import { silentLogger, systemClock } from '../engine/index.js';
import type { AuditLog, AuditOutcome } from './audit-log.js';
import { matchIndex } from './constant-time.js';
import { AdminUnauthorizedError, ThrottledError } from './errors.js';
import type { FailureThrottle } from './failure-throttle.js';
import type { Metrics } from './metrics.js';

export const ADMIN_TOKEN_HEADER = 'x-admin-token';

export interface AdminAuthOptions {
  readonly engine: { accepted(name: 'ADMIN_TOKEN'): readonly string[] };
  readonly throttle: FailureThrottle;
  readonly audit: AuditLog;
  readonly clock?: Clock;
  /** Where the one `admin.lockout` line per lockout goes. */
  readonly logger?: Logger;
  /** Counts refusals: `admin_auth_failures_total{reason}` and `admin_throttled_total`. */
  readonly metrics?: Pick<Metrics, 'adminAuthFailure' | 'adminThrottled'>;
}

export interface AdminAuth {
  /** Throttle reservation, then the token: 429, 401, or on to the route. */
  onRequest(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** One audit event per admin call, whatever happened to it. */
  onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

interface Verdict {
  outcome: AuditOutcome;
  credential?: 'current' | 'previous';
}

/**
 * Admin authentication: `x-admin-token` against every value the engine accepts for ADMIN_TOKEN
 * (current, and previous within its grace window), in constant time over SHA-256 digests.
 *
 * Decide before reveal: the token is compared in process (constant time, nothing sent), then the
 * failure throttle decides in one atomic step whether the outcome may be answered, counting a
 * wrong token in that same step, so concurrency cannot multiply the limit of wrong tokens answered
 * 401. A right token is never counted, so it holds no budget while in flight and leaves nothing in
 * Redis whatever Redis does. A locked-out client gets 429 whatever it sent, the right token
 * included: that is what stops guessing.
 *
 * A request without the header is never compared, so it teaches nothing about the token and does
 * not spend an attempt (a plain `curl` of an admin route must not lock an operator out). It is
 * still refused with 429 while its client is locked out, so it cannot tell a locked-out client
 * anything a wrong token would not. Any header present (empty, repeated, huge) is a guess.
 */
export function createAdminAuth(options: AdminAuthOptions): AdminAuth {
  const { engine, throttle, audit, clock = systemClock, logger = silentLogger, metrics } = options;
  const verdicts = new WeakMap<FastifyRequest, Verdict>();

  return {
    async onRequest(request) {
      // One key per client, however a proxy spelled its address: `secrets unlock` takes any spelling.
      const client = canonicalAddress(request.ip) ?? request.ip;
      const header = request.headers[ADMIN_TOKEN_HEADER];
      if (header === undefined) {
        const state = await throttle.peek(client);
        if (state.blocked) {
          verdicts.set(request, { outcome: 'throttled' });
          metrics?.adminThrottled();
          throw new ThrottledError(state.retryAfterSeconds);
        }
        verdicts.set(request, { outcome: 'denied' });
        metrics?.adminAuthFailure('missing-token');
        throw new AdminUnauthorizedError();
      }
      // Compared here, in constant time and in process; nothing of the outcome leaves until the
      // throttle has decided. A repeated header arrives as one comma-joined string (or an array): it matches nothing.
      const index = matchIndex(typeof header === 'string' ? header : undefined, engine.accepted('ADMIN_TOKEN'));
      const decision = await throttle.decide(client, index < 0 ? 'wrong' : 'right');
      if (decision.blocked) {
        verdicts.set(request, { outcome: 'throttled' });
        metrics?.adminThrottled();
        throw new ThrottledError(decision.retryAfterSeconds);
      }
      if (index < 0) {
        verdicts.set(request, { outcome: 'denied' });
        metrics?.adminAuthFailure('wrong-token');
        if (decision.remaining === 0) {
          logger.warn(
            {
              event: 'admin.lockout',
              clientAddress: client,
              failures: decision.attempts,
              until: new Date(decision.windowEndsAtMs).toISOString(),
              counter: decision.store,
              redisKey: throttle.keyFor(client),
            },
            'Admin client locked out after too many failed tokens',
          );
        }
        throw new AdminUnauthorizedError();
      }
      verdicts.set(request, { outcome: 'allowed', credential: index === 0 ? 'current' : 'previous' });
    },
    async onResponse(request, reply) {
      const verdict = verdicts.get(request) ?? { outcome: 'denied' };
      audit.record({
        time: new Date(clock.now()).toISOString(),
        clientAddress: request.ip,
        action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        outcome: verdict.outcome,
        statusCode: reply.statusCode,
        requestId: request.id,
        ...(verdict.credential !== undefined && { credential: verdict.credential }),
      });
    },
  };
}
