import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../engine/index.js';
import { systemClock } from '../engine/index.js';
import type { AuditLog, AuditOutcome } from './audit-log.js';
import { matchIndex } from './constant-time.js';
import { ThrottledError, UnauthorizedError } from './errors.js';
import type { FailureThrottle } from './failure-throttle.js';

export const ADMIN_TOKEN_HEADER = 'x-admin-token';

export interface AdminAuthOptions {
  readonly engine: { accepted(name: 'ADMIN_TOKEN'): readonly string[] };
  readonly throttle: FailureThrottle;
  readonly audit: AuditLog;
  readonly clock?: Clock;
}

export interface AdminAuth {
  /** Throttle check, then the token: 429, 401, or on to the route. */
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
 * (current, and previous within its grace window), in constant time over SHA-256 digests. A
 * client over its failure budget gets 429 before its token is even looked at, so a correct
 * guess is no faster to find past the limit.
 */
export function createAdminAuth(options: AdminAuthOptions): AdminAuth {
  const { engine, throttle, audit, clock = systemClock } = options;
  const verdicts = new WeakMap<FastifyRequest, Verdict>();

  return {
    async onRequest(request) {
      const client = request.ip;
      const before = await throttle.check(client);
      if (before.blocked) {
        verdicts.set(request, { outcome: 'throttled' });
        throw new ThrottledError(before.retryAfterSeconds);
      }
      const header = request.headers[ADMIN_TOKEN_HEADER];
      const index = matchIndex(typeof header === 'string' ? header : undefined, engine.accepted('ADMIN_TOKEN'));
      if (index < 0) {
        verdicts.set(request, { outcome: 'denied' });
        await throttle.recordFailure(client);
        throw new UnauthorizedError();
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
