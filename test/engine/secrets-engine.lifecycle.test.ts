import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { SourceError } from '../../src/engine/errors.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { postgresUrl, text } from '../../src/engine/value-kinds.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { MemorySource } from '../support/memory-source.js';

const catalog = () =>
  defineCatalog({
    ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true },
    DATABASE_URL: { kind: postgresUrl(), required: true, description: 'db' },
  });

function setup() {
  const clock = new FakeClock();
  const source = new MemorySource(() => clock.now());
  const logger = captureLogger();
  source.put('ADMIN_TOKEN', 'admin-v1', [], clock.now() - 86_400_000);
  source.put('DATABASE_URL', 'postgresql://app@db.internal:5432/app', [], clock.now() - 86_400_000);
  const engine = createSecretsEngine({ catalog: catalog(), source, clock, logger });
  return { clock, source, logger, engine };
}

describe('SecretsEngine life cycle', () => {
  it('can start again after a failed start-up, once the secret is there', async () => {
    const { engine, source } = setup();
    source.remove('DATABASE_URL');
    await expect(engine.initialize()).rejects.toMatchObject({ code: 'SECRETS_MISSING_REQUIRED' });
    source.put('DATABASE_URL', 'postgresql://app@db.internal:5432/app');

    await engine.initialize();

    expect(engine.get('DATABASE_URL')).toBe('postgresql://app@db.internal:5432/app');
  });

  it('joins a refresh already in flight when start-up begins, with one load', async () => {
    const { engine, source } = setup();
    const refreshing = engine.refresh();
    await engine.initialize();
    await refreshing;

    expect(source.calls).toHaveLength(1);
    expect(engine.status()).toMatchObject({ initialized: true, requiredSecretsOk: true });
  });

  it('keeps its error state to whole-catalog attempts: a failed names-only refresh does not mark it degraded', async () => {
    const { engine, source } = setup();
    await engine.initialize();
    source.failAll = new SourceError('ThrottlingException', true);

    const outcome = await engine.refresh({ names: ['DATABASE_URL'], reason: 'auth-failure' });

    expect(outcome).toEqual({ ok: false, reason: 'auth-failure', names: ['DATABASE_URL'], code: 'ThrottlingException', transient: true });
    expect(engine.status()).toMatchObject({ lastErrorCode: null, consecutiveFailures: 0 });
    source.failAll = undefined;
    await engine.refresh();
    source.failAll = new SourceError('ThrottlingException', true);
    await engine.refresh();
    expect(engine.status().lastErrorCode).toBe('ThrottlingException');
    source.failAll = undefined;
    await engine.refresh({ names: ['ADMIN_TOKEN'] });
    expect(engine.status().lastErrorCode).toBe('ThrottlingException');
  });

  it('logs each refresh request and each listener that throws', async () => {
    const { engine, logger } = setup();
    await engine.initialize();
    engine.onRefresh(() => {
      throw Object.assign(new Error('canary-listener-message'), { code: 'EBROKEN' });
    });

    await engine.refresh({ reason: 'notice' });

    expect(logger.lines.filter((l) => l.obj.event === 'secrets.refresh_forced').map((l) => l.msg)).toEqual(['Secrets refresh requested']);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.listener_failed')).toEqual({
      level: 'error',
      msg: 'Refresh listener threw',
      obj: { event: 'secrets.listener_failed', code: 'EBROKEN' },
    });
    expect(logger.text()).not.toContain('canary-listener-message');
  });

  it('quotes at most 64 characters of a name outside the catalog', async () => {
    const { engine } = setup();
    await engine.initialize();
    const long = `X${'Y'.repeat(100)}`;

    expect(() => (engine.get as (n: string) => unknown)(long)).toThrow(`Unknown secret ${JSON.stringify(long.slice(0, 64))}: not in the catalog`);
  });

  it('says a read came before start-up finished', () => {
    const { engine } = setup();
    expect(() => engine.get('ADMIN_TOKEN')).toThrow(expect.objectContaining({ code: 'SECRETS_NOT_INITIALIZED', message: 'Secret ADMIN_TOKEN read before initialize() finished' }));
  });
});
