import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config.js';

export type ServiceLogger = PinoLogger;

/** Headers that carry credentials. Declared once: the redaction paths and the serializers derive from it. */
export const SENSITIVE_HEADERS = ['x-admin-token', 'x-hub-signature-256', 'authorization', 'cookie', 'set-cookie'] as const;

/**
 * Every place a header object can appear in a log line: top level, and one level down (req,
 * request, res, reply...). pino's `*` matches exactly one level.
 */
export const REDACT_PATHS: readonly string[] = SENSITIVE_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]);

/** Query parameters whose values are credentials, e.g. the webhook handshake's `hub.verify_token`. */
const SENSITIVE_QUERY_KEY = /token|secret|signature|password|passwd|auth|key|code/i;

/** The URL with sensitive query values replaced, so request logs never carry a verify token. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = key;
      try {
        decoded = decodeURIComponent(key);
      } catch {
        // A malformed escape: judge the raw key.
      }
      return eq >= 0 && SENSITIVE_QUERY_KEY.test(decoded) ? `${key}=[Redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  stack?: unknown;
}

const serializers = {
  // Fastify's default also logs nothing but these; we add URL redaction and never log headers.
  req: (req: RequestLike) => ({ method: req.method, url: redactUrl(req.url ?? ''), remoteAddress: req.ip }),
  res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
  // Only name, code, message and stack: driver errors carry extra fields (query parameters, rows).
  err: (err: ErrorLike) => ({
    type: typeof err.name === 'string' ? err.name : 'Error',
    ...(typeof err.code === 'string' && { code: err.code }),
    message: typeof err.message === 'string' ? err.message : '',
    ...(typeof err.stack === 'string' && { stack: err.stack }),
  }),
};

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; stdout when absent. Tests pass a stream that keeps every line for canary scans. */
  readonly destination?: DestinationStream;
}

/** The service's JSON logger: pino, with credential headers and query values redacted. */
export function createLogger(options: LoggerOptions): ServiceLogger {
  return pino(
    {
      level: options.level,
      base: { service: 'whatsapp-saas-backend' },
      redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
      serializers,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
