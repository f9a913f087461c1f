import type { Logger } from 'pino';

export type AuditOutcome = 'allowed' | 'denied' | 'throttled';

/** One admin call, allowed or refused. Never a token: only who, what, when and how it ended. */
export interface AuditEvent {
  readonly time: string;
  readonly clientAddress: string;
  /** The route, e.g. `GET /admin/secrets/health`. */
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly statusCode: number;
  readonly requestId: string;
  /** Which accepted token matched: the current one, or the previous one within its grace window. */
  readonly credential?: 'current' | 'previous';
}

export interface AuditLog {
  record(event: AuditEvent): void;
}

/**
 * Audit events as JSON log lines (`event: "admin.audit"`) at info level whatever LOG_LEVEL says,
 * so turning request logging down never drops the audit trail. Ship the log stream to durable
 * storage (CloudWatch Logs in production).
 */
export function createAuditLog(logger: Logger): AuditLog {
  const audit = logger.child({ audit: true }, { level: 'info' });
  return {
    record({ time, ...rest }) {
      // pino stamps the line's own `time`; ours goes in `at` so the JSON has no duplicate key.
      audit.info({ event: 'admin.audit', at: time, ...rest }, 'admin call');
    },
  };
}
