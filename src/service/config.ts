import { BlockList, isIP } from 'node:net';
import { DEFAULT_GRACE_MS, DEFAULT_STARTUP_TIMEOUT_MS, DEFAULT_TTL_MS, MAX_TTL_MS, MIN_TTL_MS, parseReplicaRegions } from '../engine/index.js';
import { ConfigError } from './errors.js';
import { DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, DEFAULT_NOTICE_INTERVAL_MS, DEFAULT_NOTICE_SPREAD_MS } from './refresh-broadcast.js';
import { DEFAULT_WEBHOOK_INGEST } from './webhook-ingest.js';

/** The service's settings (not secrets: those come from the engine). Durations carry their unit. */
export interface ServiceConfig {
  readonly port: number;
  /**
   * 127.0.0.1 by default so a laptop never exposes the admin API to its network; the Dockerfile
   * sets HOST=0.0.0.0 because a container must listen on its own interface to be reachable.
   */
  readonly host: string;
  readonly useAwsSecrets: boolean;
  readonly awsRegion: string;
  /** SECRETS_REPLICA_REGIONS: replica regions read when AWS_REGION fails, in order of preference. */
  readonly secretsReplicaRegions: readonly string[];
  readonly secretsTtlMs: number;
  readonly secretsGraceMs: number;
  /** At most one refresh per this interval on refresh notices from Redis (plus one trailing). */
  readonly secretsNoticeIntervalMs: number;
  /** The floor of the window over which each instance spreads its notice-driven fetch at random. */
  readonly secretsNoticeSpreadMs: number;
  /** The fleet's share of the GetSecretValue quota for notice-driven fetches (calls a second); sizes the spread. */
  readonly secretsGetSecretValueBudgetPerSecond: number;
  /** How long start-up retries a throttled or failing secret store before the service exits. */
  readonly secretsStartupTimeoutMs: number;
  readonly secretsProject: string;
  readonly secretsEnvironment: string;
  /** The `.env` path, resolved by the caller against its working directory. */
  readonly envFile: string;
  readonly logLevel: LogLevel;
  /**
   * Which X-Forwarded-For entries to believe (for the client address of throttling and audit):
   * false (none), a hop count (1 behind one load balancer), or the proxies' addresses/CIDRs.
   * Never "everything": the leftmost entry is whatever the client wrote.
   */
  readonly trustProxy: TrustProxy;
  readonly webhookBodyLimitBytes: number;
  /** Webhook events accepted and not yet committed; one more is refused with 503 and Retry-After. */
  readonly webhookQueueMax: number;
  /** Webhook events committed in one transaction at most. */
  readonly webhookGroupMax: number;
  /** Webhook groups written at once, each on a connection of the pool (10): some stay for the rest. */
  readonly webhookGroupsInFlight: number;
  readonly shutdownTimeoutMs: number;
  /** Deadline for a request's headers, from its first byte (or a new connection's opening). */
  readonly httpHeadersTimeoutMs: number;
  /** Deadline for a whole request, headers and body: a slow sender gets 408 and its socket closed. */
  readonly httpRequestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open; above the load balancer's own idle timeout. */
  readonly httpKeepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed (0: no limit). */
  readonly httpMaxRequestsPerSocket: number;
  /** How long one database + Redis probe round answers every /healthz caller (0: a round per call). */
  readonly healthMaxAgeMs: number;
  /** Where GET /metrics is served (METRICS_PORT, METRICS_HOST): see `metricsExposure`. */
  readonly metrics: MetricsExposure;
}

/**
 * Where GET /metrics is served. `main`: on PORT beside the API, only when HOST is a loopback
 * address (nobody else can reach it). `own`: only on a listener of its own (METRICS_PORT, on
 * METRICS_HOST, 127.0.0.1 by default), never on PORT: bind it where Prometheus reaches it and keep
 * it off the load balancer. `off`: not served, because METRICS_PORT=off (`disabled`) or because
 * HOST is not loopback and no METRICS_PORT was set (`public-host`: the entry warns at start).
 */
export type MetricsExposure =
  | { readonly kind: 'main' }
  | { readonly kind: 'own'; readonly host: string; readonly port: number }
  | { readonly kind: 'off'; readonly reason: 'disabled' | 'public-host' };

/** Fastify's `trustProxy` forms that cannot be fooled by a client: a hop count, or proxy addresses. */
export type TrustProxy = false | number | readonly string[];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Meta delivers a few KiB in one go from its own data centres: 10 s for headers and 30 s for a
 * whole request (a 3 MB body at 1 Mbit/s) let every real delivery through, while a client that
 * dribbles bytes holds a connection for at most 30 s. Keep-alive at 72 s outlives an ALB's 60 s
 * idle timeout, so the balancer, not the service, closes idle connections (no 502 on reuse).
 */
export const DEFAULT_HTTP_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS = 72_000;
export const DEFAULT_HTTP_MAX_REQUESTS_PER_SOCKET = 10_000;

/** Meta's payloads are a few KiB; the issue asks for an explicit limit between 1 and 3 MB. */
export const DEFAULT_WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;
const MAX_WEBHOOK_BODY_LIMIT_BYTES = 3 * 1024 * 1024;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the service's settings from an injected environment record (the entry passes
 * `process.env` over the `.env` file's settings). Invalid input fails with the variable's name
 * and what was expected; the input itself is never echoed.
 */
export function loadServiceConfig(env: Env): ServiceConfig {
  return {
    port: int(env, 'PORT', 3000, 0, 65_535),
    host: str(env, 'HOST', '127.0.0.1'),
    useAwsSecrets: bool(env, 'USE_AWS_SECRETS', false),
    awsRegion: str(env, 'AWS_REGION', 'us-east-1'),
    secretsReplicaRegions: replicaRegions(env, str(env, 'AWS_REGION', 'us-east-1')),
    secretsTtlMs: int(env, 'SECRETS_TTL_MS', DEFAULT_TTL_MS, MIN_TTL_MS, MAX_TTL_MS),
    secretsGraceMs: int(env, 'SECRETS_GRACE_MS', DEFAULT_GRACE_MS, 0, Number.MAX_SAFE_INTEGER),
    secretsNoticeIntervalMs: int(env, 'SECRETS_NOTICE_INTERVAL_MS', DEFAULT_NOTICE_INTERVAL_MS, 0, 10 * 60_000),
    secretsNoticeSpreadMs: int(env, 'SECRETS_NOTICE_SPREAD_MS', DEFAULT_NOTICE_SPREAD_MS, 0, 60_000),
    secretsGetSecretValueBudgetPerSecond: int(env, 'SECRETS_GET_SECRET_VALUE_BUDGET_PER_SECOND', DEFAULT_GET_SECRET_VALUE_BUDGET_PER_SECOND, 1, 1_000_000),
    secretsStartupTimeoutMs: int(env, 'SECRETS_STARTUP_TIMEOUT_MS', DEFAULT_STARTUP_TIMEOUT_MS, 1_000, 10 * 60_000),
    secretsProject: slug(env, 'SECRETS_PROJECT', 'whatsapp-saas'),
    secretsEnvironment: slug(env, 'SECRETS_ENVIRONMENT', 'mvp'),
    envFile: str(env, 'ENV_FILE', '.env'),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    webhookBodyLimitBytes: int(env, 'WEBHOOK_BODY_LIMIT_BYTES', DEFAULT_WEBHOOK_BODY_LIMIT_BYTES, 1024, MAX_WEBHOOK_BODY_LIMIT_BYTES),
    webhookQueueMax: int(env, 'WEBHOOK_QUEUE_MAX', DEFAULT_WEBHOOK_INGEST.maxPending, 1, 100_000),
    webhookGroupMax: int(env, 'WEBHOOK_GROUP_MAX', DEFAULT_WEBHOOK_INGEST.maxGroup, 1, 1_000),
    webhookGroupsInFlight: int(env, 'WEBHOOK_GROUPS_IN_FLIGHT', DEFAULT_WEBHOOK_INGEST.groupsInFlight, 1, 8),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 1, 10 * 60_000),
    ...httpDeadlines(env),
    healthMaxAgeMs: int(env, 'HEALTH_MAX_AGE_MS', 1_000, 0, 60_000),
    metrics: metricsExposure(env),
  };
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function metricsExposure(env: Env): MetricsExposure {
  const setting = raw(env, 'METRICS_PORT');
  if (setting?.toLowerCase() === 'off') return { kind: 'off', reason: 'disabled' };
  if (setting === undefined) return isLoopbackHost(str(env, 'HOST', '127.0.0.1')) ? { kind: 'main' } : { kind: 'off', reason: 'public-host' };
  const port = int(env, 'METRICS_PORT', 0, 0, 65_535);
  if (port !== 0 && port === int(env, 'PORT', 3000, 0, 65_535)) throw new ConfigError('METRICS_PORT', 'a port other than PORT, or off');
  return { kind: 'own', host: str(env, 'METRICS_HOST', '127.0.0.1'), port };
}

function httpDeadlines(env: Env) {
  const httpRequestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_REQUEST_TIMEOUT_MS, 100, 10 * 60_000);
  const headersFallback = Math.min(DEFAULT_HTTP_HEADERS_TIMEOUT_MS, httpRequestTimeoutMs);
  // Node refuses a headers deadline longer than the request deadline; say so by name.
  const httpHeadersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', headersFallback, 100, httpRequestTimeoutMs);
  return {
    httpHeadersTimeoutMs,
    httpRequestTimeoutMs,
    httpKeepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS, 1_000, 10 * 60_000),
    httpMaxRequestsPerSocket: int(env, 'HTTP_MAX_REQUESTS_PER_SOCKET', DEFAULT_HTTP_MAX_REQUESTS_PER_SOCKET, 0, 1_000_000),
  };
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function str(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `an integer in [${min}, ${max}]`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(name, 'true or false');
}

const MAX_PROXY_HOPS = 16;
/** proxy-addr's names for address ranges, which Fastify accepts alongside addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function trustProxy(env: Env, name: string): TrustProxy {
  const v = raw(env, name);
  if (v === undefined || v.toLowerCase() === 'false') return false;
  if (v.toLowerCase() === 'true') {
    throw new ConfigError(
      name,
      'a hop count or proxy addresses, not true (it lets every client choose its own address): ' +
        'set 1 behind one load balancer such as an ALB, or the proxies\' addresses or CIDRs, e.g. 10.0.0.0/16',
    );
  }
  if (/^\d+$/.test(v)) {
    const hops = int(env, name, 0, 0, MAX_PROXY_HOPS);
    return hops === 0 ? false : hops;
  }
  const entries = v.split(',').map((e) => e.trim());
  if (entries.length > 100 || !entries.every(isProxyAddress)) {
    throw new ConfigError(name, `false, a hop count (0-${MAX_PROXY_HOPS}), or a comma-separated list of IP addresses, CIDRs, loopback, linklocal or uniquelocal`);
  }
  // The entries are not echoed (they are input); the rule is.
  const widths = entries.map(proxyRangeWidth);
  if (widths.includes('everything')) {
    throw new ConfigError(
      name,
      'proxy addresses, not a range that trusts every address to set X-Forwarded-For (0.0.0.0/0, ::/0, or all of IPv4 as ::ffff:0:0/96): ' +
        'set 1 behind one load balancer such as an ALB, or the proxies\' own subnets',
    );
  }
  if (widths.includes('too-wide')) {
    throw new ConfigError(name, `proxy ranges no shorter than /${MIN_PROXY_PREFIX_V4} (IPv4) or /${MIN_PROXY_PREFIX_V6} (IPv6): a wider one lets a huge share of the internet set X-Forwarded-For`);
  }
  return entries;
}

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * The widest proxy ranges TRUST_PROXY accepts: a proxy fleet lives in a subnet, and a range wider
 * than /8 (or an IPv6 /32, an ISP's whole allocation) trusts clients to choose their own address.
 */
const MIN_PROXY_PREFIX_V4 = 8;
const MIN_PROXY_PREFIX_V6 = 32;
const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * How much of the internet a valid TRUST_PROXY entry trusts. IPv6 ranges are also judged by the
 * IPv4 they contain: a dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d, and the proxy
 * check matches them against IPv6 ranges in that form, so ::ffff:0:0/96 (or ::/80) trusts all of IPv4.
 */
function proxyRangeWidth(entry: string): 'ok' | 'too-wide' | 'everything' {
  const [address = '', bitsText] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || bitsText === undefined) return 'ok';
  const bits = Number(bitsText);
  if (family === 4) return bits === 0 ? 'everything' : bits < MIN_PROXY_PREFIX_V4 ? 'too-wide' : 'ok';
  if (bits === 0) return 'everything';
  const range = new BlockList();
  range.addSubnet(address, bits, 'ipv6');
  if (range.check('::ffff:0.0.0.0', 'ipv6') && range.check('::ffff:255.255.255.255', 'ipv6')) return 'everything';
  if (bits < MIN_PROXY_PREFIX_V6) return 'too-wide';
  // A range inside the mapped space (::ffff:0:0/96 and longer) is an IPv4 range in disguise.
  if (bits >= 96 && IPV4_MAPPED.check(address, 'ipv6') && bits - 96 < MIN_PROXY_PREFIX_V4) return 'too-wide';
  return 'ok';
}

function replicaRegions(env: Env, primaryRegion: string): string[] {
  try {
    return parseReplicaRegions(str(env, 'SECRETS_REPLICA_REGIONS', ''), primaryRegion);
  } catch (err) {
    throw new ConfigError('SECRETS_REPLICA_REGIONS', `comma-separated region names other than AWS_REGION (${(err as Error).message})`);
  }
}

function slug(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(v)) throw new ConfigError(name, 'lowercase letters, digits and dashes');
  return v;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(name, `one of ${allowed.join(', ')}`);
  return v as T;
}
