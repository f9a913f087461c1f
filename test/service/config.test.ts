import { describe, expect, it } from 'vitest';
import { DEFAULT_GRACE_MS, DEFAULT_STARTUP_TIMEOUT_MS, DEFAULT_TTL_MS, MAX_TTL_MS, MIN_TTL_MS } from '../../src/engine/index.js';
import { loadServiceConfig } from '../../src/service/config.js';
import { ConfigError } from '../../src/service/errors.js';

describe('loadServiceConfig', () => {
  it('uses local-mode defaults when nothing is set', () => {
    const config = loadServiceConfig({});

    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      useAwsSecrets: false,
      awsRegion: 'us-east-1',
      secretsTtlMs: DEFAULT_TTL_MS,
      secretsGraceMs: DEFAULT_GRACE_MS,
      secretsNoticeIntervalMs: 5_000,
      secretsNoticeSpreadMs: 250,
      secretsGetSecretValueBudgetPerSecond: 5_000,
      secretsProject: 'whatsapp-saas',
      secretsEnvironment: 'mvp',
      envFile: '.env',
      logLevel: 'info',
      trustProxy: false,
      webhookBodyLimitBytes: 1024 * 1024,
      webhookQueueMax: 256,
      webhookGroupMax: 64,
      webhookGroupsInFlight: 3,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      httpKeepAliveTimeoutMs: 72_000,
      httpMaxRequestsPerSocket: 10_000,
    });
  });

  it('reads every setting from the injected record', () => {
    const config = loadServiceConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      USE_AWS_SECRETS: 'true',
      AWS_REGION: 'eu-west-1',
      SECRETS_TTL_MS: '60000',
      SECRETS_GRACE_MS: '0',
      SECRETS_NOTICE_INTERVAL_MS: '2000',
      SECRETS_NOTICE_SPREAD_MS: '1000',
      SECRETS_GET_SECRET_VALUE_BUDGET_PER_SECOND: '2500',
      SECRETS_PROJECT: 'acme',
      SECRETS_ENVIRONMENT: 'prod',
      ENV_FILE: '/etc/app/.env',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: '1',
      WEBHOOK_BODY_LIMIT_BYTES: '2097152',
      WEBHOOK_QUEUE_MAX: '1000',
      WEBHOOK_GROUP_MAX: '100',
      WEBHOOK_GROUPS_IN_FLIGHT: '4',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_MAX_REQUESTS_PER_SOCKET: '0',
    });

    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      useAwsSecrets: true,
      awsRegion: 'eu-west-1',
      secretsTtlMs: 60_000,
      secretsGraceMs: 0,
      secretsNoticeIntervalMs: 2_000,
      secretsNoticeSpreadMs: 1_000,
      secretsGetSecretValueBudgetPerSecond: 2_500,
      secretsProject: 'acme',
      secretsEnvironment: 'prod',
      envFile: '/etc/app/.env',
      logLevel: 'warn',
      trustProxy: 1,
      webhookBodyLimitBytes: 2 * 1024 * 1024,
      webhookQueueMax: 1_000,
      webhookGroupMax: 100,
      webhookGroupsInFlight: 4,
      httpHeadersTimeoutMs: 5_000,
      httpRequestTimeoutMs: 20_000,
      httpKeepAliveTimeoutMs: 65_000,
      httpMaxRequestsPerSocket: 0,
    });
  });

  it('keeps the headers deadline within a short request deadline', () => {
    expect(loadServiceConfig({ HTTP_REQUEST_TIMEOUT_MS: '2000' })).toMatchObject({ httpHeadersTimeoutMs: 2_000, httpRequestTimeoutMs: 2_000 });
    expect(() => loadServiceConfig({ HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_HEADERS_TIMEOUT_MS: '3000' })).toThrow(
      'Invalid setting HTTP_HEADERS_TIMEOUT_MS: expected an integer in [100, 2000]',
    );
  });

  it.each([
    ['false', false],
    ['0', false],
    ['2', 2],
    ['10.0.0.0/16', ['10.0.0.0/16']],
    [' 10.0.0.5 , 2001:db8::/32,loopback ', ['10.0.0.5', '2001:db8::/32', 'loopback']],
  ])('reads TRUST_PROXY=%s as a hop count or a list of proxy addresses', (value, expected) => {
    expect(loadServiceConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('reads SECRETS_REPLICA_REGIONS in order of preference, none by default', () => {
    expect(loadServiceConfig({}).secretsReplicaRegions).toEqual([]);
    expect(loadServiceConfig({ AWS_REGION: 'us-east-1', SECRETS_REPLICA_REGIONS: ' us-west-2, eu-west-1 ,' }).secretsReplicaRegions).toEqual([
      'us-west-2',
      'eu-west-1',
    ]);
  });

  it('refuses a replica list naming the primary, a region twice, or something that is not a region', () => {
    for (const list of ['us-east-1', 'us-west-2,us-west-2', 'not a region']) {
      expect(() => loadServiceConfig({ AWS_REGION: 'us-east-1', SECRETS_REPLICA_REGIONS: list })).toThrow(/SECRETS_REPLICA_REGIONS/);
    }
  });

  it('refuses TRUST_PROXY=true, saying what to set instead', () => {
    expect(() => loadServiceConfig({ TRUST_PROXY: 'true' })).toThrow(
      /^Invalid setting TRUST_PROXY: .*not true \(it lets every client choose its own address\): set 1 behind one load balancer such as an ALB, or the proxies' addresses or CIDRs/,
    );
    expect(() => loadServiceConfig({ TRUST_PROXY: 'TRUE' })).toThrow(ConfigError);
  });

  it.each(['0.0.0.0/0', '::/0', '10.0.0.5, 0.0.0.0/0', '::ffff:0.0.0.0/96'])('refuses TRUST_PROXY=%s by name: it trusts every address', (value) => {
    expect(() => loadServiceConfig({ TRUST_PROXY: value })).toThrow(
      /^Invalid setting TRUST_PROXY: .*trusts every address to set X-Forwarded-For/,
    );
  });

  it.each(['0.0.0.0/1', '10.0.0.0/7', '2001::/31', '::ffff:10.0.0.0/100'])('refuses TRUST_PROXY=%s: a prefix shorter than /8 (IPv4) or /32 (IPv6)', (value) => {
    expect(() => loadServiceConfig({ TRUST_PROXY: value })).toThrow(/^Invalid setting TRUST_PROXY: .*shorter than \/8 \(IPv4\) or \/32 \(IPv6\)/);
  });

  it.each(['10.0.0.0/8', '2001:db8::/32', '::ffff:10.0.0.0/104'])('accepts TRUST_PROXY=%s, the widest prefixes allowed', (value) => {
    expect(loadServiceConfig({ TRUST_PROXY: value }).trustProxy).toEqual([value]);
  });

  it('treats empty values as unset', () => {
    expect(loadServiceConfig({ PORT: '', USE_AWS_SECRETS: '  ' })).toMatchObject({ port: 3000, useAwsSecrets: false });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['USE_AWS_SECRETS', 'yes-please'],
    ['SECRETS_TTL_MS', '-5'],
    ['SECRETS_TTL_MS', '1h'],
    ['SECRETS_PROJECT', 'Not_A_Slug'],
    ['LOG_LEVEL', 'loud'],
    ['WEBHOOK_BODY_LIMIT_BYTES', '104857600'],
    ['WEBHOOK_QUEUE_MAX', '100001'],
    ['WEBHOOK_GROUP_MAX', '1001'],
    ['WEBHOOK_GROUPS_IN_FLIGHT', '9'],
    ['TRUST_PROXY', '17'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,planted-proxy.example'],
    ['TRUST_PROXY', '10.0.0.0/8/8'],
    ['HTTP_REQUEST_TIMEOUT_MS', '99'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '1h'],
  ])('names %s when it is invalid, without echoing the input', (name, value) => {
    let caught: unknown;
    try {
      loadServiceConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe(name);
    expect((caught as ConfigError).message).toContain(name);
    expect((caught as ConfigError).message).not.toContain(value);
  });
});

describe('loadServiceConfig: secrets engine timing', () => {
  it('refuses SECRETS_TTL_MS below the engine floor, naming the setting and not the input', () => {
    let caught: unknown;
    try {
      loadServiceConfig({ SECRETS_TTL_MS: '2500' });
    } catch (err) {
      caught = err;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe('SECRETS_TTL_MS');
    expect((caught as ConfigError).message).toContain(String(MIN_TTL_MS));
    expect((caught as ConfigError).message).not.toContain('2500');
    expect(loadServiceConfig({ SECRETS_TTL_MS: String(MIN_TTL_MS) }).secretsTtlMs).toBe(MIN_TTL_MS);
  });

  it('refuses SECRETS_TTL_MS above the ceiling (60 days was once a busy loop), naming the setting and the ceiling', () => {
    const sixtyDays = String(60 * 86_400_000);
    expect(loadServiceConfig({ SECRETS_TTL_MS: sixtyDays }).secretsTtlMs).toBe(60 * 86_400_000);
    let caught: unknown;
    try {
      loadServiceConfig({ SECRETS_TTL_MS: String(MAX_TTL_MS + 1) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe('SECRETS_TTL_MS');
    expect((caught as ConfigError).message).toContain(String(MAX_TTL_MS));
  });

  it('reads the start-up deadline from SECRETS_STARTUP_TIMEOUT_MS, 30 s by default', () => {
    expect(loadServiceConfig({}).secretsStartupTimeoutMs).toBe(DEFAULT_STARTUP_TIMEOUT_MS);
    expect(DEFAULT_STARTUP_TIMEOUT_MS).toBe(30_000);
    expect(loadServiceConfig({ SECRETS_STARTUP_TIMEOUT_MS: '5000' }).secretsStartupTimeoutMs).toBe(5_000);
    expect(() => loadServiceConfig({ SECRETS_STARTUP_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ SECRETS_STARTUP_TIMEOUT_MS: '0' })).toThrow(/SECRETS_STARTUP_TIMEOUT_MS/);
  });
});

describe('loadServiceConfig: /metrics and /healthz', () => {
  it('serves /metrics on the API port only while HOST is a loopback address', () => {
    expect(loadServiceConfig({}).metrics).toEqual({ kind: 'main' });
    for (const host of ['127.0.0.1', '127.0.0.53', '::1', '[::1]', 'localhost']) expect(loadServiceConfig({ HOST: host }).metrics).toEqual({ kind: 'main' });
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'service.internal']) {
      expect(loadServiceConfig({ HOST: host }).metrics).toEqual({ kind: 'off', reason: 'public-host' });
    }
  });

  it('serves /metrics on a listener of its own with METRICS_PORT, on 127.0.0.1 unless METRICS_HOST says otherwise', () => {
    expect(loadServiceConfig({ HOST: '0.0.0.0', METRICS_PORT: '9464' }).metrics).toEqual({ kind: 'own', host: '127.0.0.1', port: 9464 });
    expect(loadServiceConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ kind: 'own', host: '0.0.0.0', port: 9464 });
  });

  it('turns /metrics off with METRICS_PORT=off', () => {
    expect(loadServiceConfig({ METRICS_PORT: 'off' }).metrics).toEqual({ kind: 'off', reason: 'disabled' });
    expect(loadServiceConfig({ HOST: '0.0.0.0', METRICS_PORT: 'OFF' }).metrics).toEqual({ kind: 'off', reason: 'disabled' });
  });

  it('refuses a METRICS_PORT that is not a port, or is PORT itself', () => {
    expect(() => loadServiceConfig({ METRICS_PORT: 'ninety' })).toThrow('Invalid setting METRICS_PORT: expected an integer in [0, 65535]');
    expect(() => loadServiceConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow('Invalid setting METRICS_PORT: expected a port other than PORT, or off');
    expect(() => loadServiceConfig({ METRICS_PORT: '3000' })).toThrow(/METRICS_PORT/);
  });

  it('shares one /healthz probe round for HEALTH_MAX_AGE_MS, 1 s by default, 0 for none', () => {
    expect(loadServiceConfig({}).healthMaxAgeMs).toBe(1_000);
    expect(loadServiceConfig({ HEALTH_MAX_AGE_MS: '0' }).healthMaxAgeMs).toBe(0);
    expect(() => loadServiceConfig({ HEALTH_MAX_AGE_MS: '60001' })).toThrow(/HEALTH_MAX_AGE_MS/);
  });
});
