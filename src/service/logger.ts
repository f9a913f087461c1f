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

/** Below this length a value is replaced only where it stands alone, so scrubbing never splits a word. */
const SHORT_VALUE_LENGTH = 8;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Replaces every known secret value (and a URL secret's password) in `text`, whatever its length.
 * For third-party error messages only, which our code does not write and which may quote a
 * connection string. A long value is replaced wherever it occurs; a short one (a short database
 * password, say) wherever it is not part of a longer word, so `pw` goes from `u:pw@db` but
 * `password` keeps its letters.
 */
export function scrubSecrets(text: string, values: readonly string[]): string {
  return compileScrubber(values)(text);
}

/** scrubSecrets with its patterns built once, for callers that scrub many texts with the same values. */
export function compileScrubber(values: readonly string[]): (text: string) => string {
  const replacers = [...values]
    .filter((v) => v !== '')
    .sort((a, b) => b.length - a.length)
    .map((v): ((text: string) => string) => {
      if (v.length >= SHORT_VALUE_LENGTH) return (text) => text.split(v).join('[Redacted]');
      const escaped = v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const before = WORD_CHAR.test(v[0]!) ? '(?<![\\p{L}\\p{N}])' : '';
      const after = WORD_CHAR.test(v.at(-1)!) ? '(?![\\p{L}\\p{N}])' : '';
      const pattern = new RegExp(`${before}${escaped}${after}`, 'gu');
      return (text) => text.replace(pattern, '[Redacted]');
    });
  return (text) => replacers.reduce((out, replace) => replace(out), text);
}

/** The values to scrub: each secret's raw value and, for URLs, their decoded password. */
export function withUrlPasswords(values: readonly string[]): string[] {
  const all = [...values];
  for (const v of values) {
    if (!v.includes('://')) continue;
    try {
      const password = new URL(v).password;
      if (password !== '') all.push(password, decodeURIComponent(password));
    } catch {
      // not a URL
    }
  }
  return all;
}

function serializersFor(secretValues: () => readonly string[]) {
  // Built again only when the values change (a rotation), not for every line: the request
  // serializer runs on every request.
  let compiled: { key: string; scrub: (text: string) => string } | undefined;
  const scrub = (text: string) => {
    const values = secretValues();
    const key = values.join('\u0000');
    if (compiled?.key !== key) compiled = { key, scrub: compileScrubber(withUrlPasswords(values)) };
    return compiled.scrub(text);
  };
  return {
    // Fastify's default also logs nothing but these; we add URL redaction and never log headers.
    // A client may also put a credential in the path (`/admin/<token>`): known values are scrubbed.
    req: (req: RequestLike) => ({ method: req.method, url: scrub(redactUrl(req.url ?? '')), remoteAddress: req.ip }),
    res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    // Only name, code, message and stack: driver errors carry extra fields (query parameters, rows).
    err: (err: ErrorLike) => ({
      type: typeof err.name === 'string' ? err.name : 'Error',
      ...(typeof err.code === 'string' && { code: err.code }),
      message: typeof err.message === 'string' ? scrub(err.message) : '',
      ...(typeof err.stack === 'string' && { stack: scrub(err.stack) }),
    }),
  };
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; stdout when absent. Tests pass a stream that keeps every line for canary scans. */
  readonly destination?: DestinationStream;
  /**
   * Current secret values, scrubbed from logged errors' messages and stacks (defence in depth for
   * third-party messages that quote a connection string). Read only when an error is logged.
   */
  readonly secretValues?: () => readonly string[];
}

/** The service's JSON logger: pino, with credential headers and query values redacted. */
export function createLogger(options: LoggerOptions): ServiceLogger {
  return pino(
    {
      level: options.level,
      base: { service: 'whatsapp-saas-backend' },
      redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
      serializers: serializersFor(options.secretValues ?? (() => [])),
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
