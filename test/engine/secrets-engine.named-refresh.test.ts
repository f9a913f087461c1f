import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { SourceError } from '../../src/engine/errors.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { postgresUrl, text } from '../../src/engine/value-kinds.js';
import { FakeClock } from '../support/fake-clock.js';
import { MemorySource } from '../support/memory-source.js';

const catalog = () =>
  defineCatalog({
    ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true },
    DATABASE_URL: { kind: postgresUrl(), required: true, description: 'db' },
    MODEL: { kind: text(), required: false, default: 'gpt-4', description: 'model' },
    OPTIONAL_KEY: { kind: text(), required: false, description: 'optional' },
  });

function setup() {
  const clock = new FakeClock();
  const source = new MemorySource(() => clock.now());
  source.put('ADMIN_TOKEN', 'admin-v1');
  source.put('DATABASE_URL', 'postgresql://app@db.internal:5432/app');
  const engine = createSecretsEngine({ catalog: catalog(), source, clock, random: () => 0.5 });
  return { clock, source, engine };
}

describe('SecretsEngine refresh outcomes and optional secrets that were never created', () => {
  it('does not list them as failed, for the whole catalog or by name', async () => {
    const { engine } = setup();
    await engine.initialize();

    const whole = await engine.refresh();
    const named = await engine.refresh({ names: ['OPTIONAL_KEY', 'MODEL'] });

    expect(whole).toMatchObject({ ok: true, failed: [] });
    expect(named).toMatchObject({ ok: true, failed: [] });
  });

  it('lists one that had a store value and was deleted, and one that cannot be read', async () => {
    const { engine, source } = setup();
    source.put('OPTIONAL_KEY', 'k-1');
    await engine.initialize();
    source.remove('OPTIONAL_KEY');
    source.failSecret.set('MODEL', { name: 'MODEL', code: 'AccessDeniedException', transient: false });

    const outcome = await engine.refresh();

    expect(outcome.ok && outcome.failed.map((f) => [f.name, f.code])).toEqual([
      ['MODEL', 'AccessDeniedException'],
      ['OPTIONAL_KEY', 'ResourceNotFoundException'],
    ]);
  });
});

describe('SecretsEngine start-up and a value that does not carry AWSCURRENT', () => {
  it('fails at once for a required secret (NotCurrentVersion), naming it, without retrying for the start-up deadline', async () => {
    const { engine, source } = setup();
    source.failSecret.set('DATABASE_URL', { name: 'DATABASE_URL', code: 'NotCurrentVersion', transient: true });

    await expect(engine.initialize()).rejects.toMatchObject({ code: 'SECRETS_MISSING_REQUIRED', message: expect.stringContaining('DATABASE_URL') });
    expect(source.calls.filter((c) => c.op === 'load')).toHaveLength(1);
  });
});

describe('SecretsEngine last refresh after a named refresh', () => {
  it('moves the read time of each secret read, and the instance last refresh of any kind with its kind', async () => {
    const { engine, source, clock } = setup();
    const t0 = clock.now();
    await engine.initialize();
    expect(engine.status()).toMatchObject({ lastAnyRefresh: { at: new Date(t0).toISOString(), kind: 'full', reason: 'startup' } });

    await clock.advance(60_000);
    source.put('ADMIN_TOKEN', 'admin-v2');
    await engine.refresh({ names: ['ADMIN_TOKEN'], reason: 'notice' });

    const s = engine.status();
    expect(s.lastRefresh).toBe(new Date(t0).toISOString());
    expect(s.lastAnyRefresh).toEqual({ at: new Date(t0 + 60_000).toISOString(), kind: 'names', reason: 'notice' });
    expect(s.secrets.ADMIN_TOKEN).toMatchObject({ versionId: 'v3', lastRead: new Date(t0 + 60_000).toISOString() });
    expect(s.secrets.DATABASE_URL!.lastRead).toBe(new Date(t0).toISOString());
    expect(s.secrets.OPTIONAL_KEY!.lastRead).toBeNull();
  });

  it('keeps a secret\'s read time and the last refresh through a failed read', async () => {
    const { engine, source, clock } = setup();
    const t0 = clock.now();
    await engine.initialize();
    await clock.advance(60_000);
    source.failSecret.set('ADMIN_TOKEN', { name: 'ADMIN_TOKEN', code: 'InternalServiceError', transient: true });
    await engine.refresh({ names: ['ADMIN_TOKEN'] });
    source.failSecret.clear();
    source.failAll = new SourceError('ServiceUnavailable', true);
    await engine.refresh();

    expect(engine.status().secrets.ADMIN_TOKEN!.lastRead).toBe(new Date(t0).toISOString());
    expect(engine.status().lastAnyRefresh).toMatchObject({ at: new Date(t0 + 60_000).toISOString(), kind: 'names', reason: 'forced' });
  });
});
