import { describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import type { EngineStatus, SecretStatus } from '../../src/engine/index.js';
import { createMetrics } from '../../src/service/metrics.js';
import { FakeClock } from '../support/fake-clock.js';
import { parseSamples, sample } from './support/prometheus-text.js';

const DAY = 86_400_000;

/** Engine status as data: the gauges read these fields only. */
function status(lastChanged: Record<string, number | null>): EngineStatus {
  const secrets: Record<string, Pick<SecretStatus, 'lastChanged'>> = {};
  for (const [name, ms] of Object.entries(lastChanged)) secrets[name] = { lastChanged: ms === null ? null : new Date(ms).toISOString() };
  return { secretsLoaded: 9, requiredSecretsOk: true, cacheAgeMs: 1_500, consecutiveFailures: 0, secrets } as unknown as EngineStatus;
}

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  return parseSamples(await metrics.registry.metrics());
}

describe('createMetrics', () => {
  it('reports rotation age in days and overdue by the catalog schedule, only for secrets with a period that are loaded', async () => {
    const clock = new FakeClock();
    const engine = { status: () => status({ ADMIN_TOKEN: clock.now() - 100 * DAY, DATABASE_URL: clock.now() - 29.5 * DAY, REDIS_URL: null, META_APP_SECRET: clock.now() - 400 * DAY }) };

    const s = await scrape(createMetrics(engine, { catalog: whatsappSaasCatalog(), clock }));

    expect(s.get(sample('secrets_rotation_age_days', { secret: 'ADMIN_TOKEN' }))).toBe(100);
    expect(s.get(sample('secrets_rotation_overdue', { secret: 'ADMIN_TOKEN' }))).toBe(1);
    expect(s.get(sample('secrets_rotation_age_days', { secret: 'DATABASE_URL' }))).toBe(29.5);
    expect(s.get(sample('secrets_rotation_overdue', { secret: 'DATABASE_URL' }))).toBe(0);
    for (const secret of ['REDIS_URL', 'META_APP_SECRET']) {
      expect(s.has(sample('secrets_rotation_age_days', { secret }))).toBe(false);
      expect(s.has(sample('secrets_rotation_overdue', { secret }))).toBe(false);
    }
  });

  it('follows the engine at each scrape: a rotated secret is no longer overdue', async () => {
    const clock = new FakeClock();
    let changed = clock.now() - 100 * DAY;
    const metrics = createMetrics({ status: () => status({ ADMIN_TOKEN: changed }) }, { clock });

    const before = await scrape(metrics);
    changed = clock.now();
    const after = await scrape(metrics);

    expect(before.get(sample('secrets_rotation_overdue', { secret: 'ADMIN_TOKEN' }))).toBe(1);
    expect(after.get(sample('secrets_rotation_overdue', { secret: 'ADMIN_TOKEN' }))).toBe(0);
    expect(after.get(sample('secrets_rotation_age_days', { secret: 'ADMIN_TOKEN' }))).toBe(0);
  });

  it('marks the region serving the secrets with 1 and the other regions read with 0', async () => {
    const served = { ...status({}), region: 'us-west-2', regions: ['us-east-1', 'us-west-2', 'eu-west-1'] };

    const s = await scrape(createMetrics({ status: () => served }));

    expect(s.get(sample('secrets_served_region', { region: 'us-west-2' }))).toBe(1);
    expect(s.get(sample('secrets_served_region', { region: 'us-east-1' }))).toBe(0);
    expect(s.get(sample('secrets_served_region', { region: 'eu-west-1' }))).toBe(0);
  });

  it('has no served-region series in env mode', async () => {
    const envMode = { ...status({}), region: null, regions: [] };

    const s = await scrape(createMetrics({ status: () => envMode }));

    expect([...s.keys()].some((key) => key.startsWith('secrets_served_region'))).toBe(false);
  });

  it('counts each event under its labels: AWS calls and refreshes by outcome or code', async () => {
    const metrics = createMetrics({ status: () => status({}) });

    metrics.awsCall({ operation: 'BatchGetSecretValue', outcome: 'ok', region: 'us-east-1' });
    metrics.awsCall({ operation: 'GetSecretValue', outcome: 'AccessDeniedException', region: 'us-east-1' });
    metrics.awsCall({ operation: 'GetSecretValue', outcome: 'AccessDeniedException', region: 'us-east-1' });
    metrics.awsCall({ operation: 'BatchGetSecretValue', outcome: 'ok', region: 'us-west-2' });
    metrics.refreshed({ ok: true, reason: 'scheduled', changed: [], failed: [] });
    metrics.refreshed({ ok: false, reason: 'retry', code: 'ThrottlingException', transient: true });
    metrics.refreshNotice('coalesced');
    metrics.adminAuthFailure('wrong-token');
    metrics.adminThrottled();
    metrics.webhookSignatureFailure('malformed');
    metrics.webhookEvent('stored');
    const s = await scrape(metrics);

    expect(s.get(sample('secrets_aws_calls_total', { operation: 'BatchGetSecretValue', outcome: 'ok', region: 'us-east-1' }))).toBe(1);
    expect(s.get(sample('secrets_aws_calls_total', { operation: 'GetSecretValue', outcome: 'AccessDeniedException', region: 'us-east-1' }))).toBe(2);
    expect(s.get(sample('secrets_aws_calls_total', { operation: 'BatchGetSecretValue', outcome: 'ok', region: 'us-west-2' }))).toBe(1);
    expect(s.get(sample('secrets_refreshes_total', { reason: 'scheduled', outcome: 'ok' }))).toBe(1);
    expect(s.get(sample('secrets_refreshes_total', { reason: 'retry', outcome: 'ThrottlingException' }))).toBe(1);
    expect(s.get(sample('secrets_refresh_notices_total', { result: 'coalesced' }))).toBe(1);
    expect(s.get(sample('admin_auth_failures_total', { reason: 'wrong-token' }))).toBe(1);
    expect(s.get(sample('admin_throttled_total'))).toBe(1);
    expect(s.get(sample('webhook_signature_failures_total', { reason: 'malformed' }))).toBe(1);
    expect(s.get(sample('webhook_events_total', { result: 'stored' }))).toBe(1);
  });

  it('shows every known result and reason at 0 before the first event, so rate() has a series', async () => {
    const s = await scrape(createMetrics({ status: () => status({}) }));

    for (const result of ['applied', 'coalesced', 'ignored-malformed']) expect(s.get(sample('secrets_refresh_notices_total', { result }))).toBe(0);
    for (const reason of ['missing-token', 'wrong-token']) expect(s.get(sample('admin_auth_failures_total', { reason }))).toBe(0);
    for (const reason of ['missing', 'malformed', 'mismatch']) expect(s.get(sample('webhook_signature_failures_total', { reason }))).toBe(0);
    for (const result of ['stored', 'duplicate', 'rejected']) expect(s.get(sample('webhook_events_total', { result }))).toBe(0);
    expect(s.get(sample('admin_throttled_total'))).toBe(0);
  });
});
