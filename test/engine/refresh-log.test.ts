import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { logRefreshed, logRefreshFailed, logSecretFailures } from '../../src/engine/refresh-log.js';
import { EMPTY_SNAPSHOT, nextSnapshot } from '../../src/engine/snapshot.js';
import { text } from '../../src/engine/value-kinds.js';
import { captureLogger } from '../support/capture-logger.js';

const catalog = defineCatalog({
  TOKEN: { kind: text(), required: true, description: 'token' },
  OPTIONAL: { kind: text(), required: false, description: 'optional' },
  OTHER: { kind: text(), required: false, description: 'other' },
});
const held = nextSnapshot(
  EMPTY_SNAPSHOT,
  { attempt: 1, entries: catalog.entries, full: true, records: [{ name: 'TOKEN', raw: 'canary-token-3141' }, { name: 'OTHER', raw: 'o' }], failures: [], previous: new Map() },
  0,
).snapshot;

describe('logSecretFailures', () => {
  it('logs each failed secret by name and code, at warn when transient and error otherwise, never a value', () => {
    const logger = captureLogger();

    logSecretFailures(logger, catalog, held, [
      { name: 'TOKEN', code: 'ResourceNotFoundException', transient: false },
      { name: 'OTHER', code: 'ThrottlingException', transient: true },
      { name: 'OPTIONAL', code: 'InvalidValue', transient: false, reason: 'empty' },
    ]);

    expect(logger.lines).toEqual([
      {
        level: 'error',
        msg: 'Secret could not be refreshed; keeping cached value',
        obj: { event: 'secrets.secret_failed', name: 'TOKEN', code: 'ResourceNotFoundException', reason: undefined, keptCachedValue: true },
      },
      {
        level: 'warn',
        msg: 'Secret could not be refreshed; keeping cached value',
        obj: { event: 'secrets.secret_failed', name: 'OTHER', code: 'ThrottlingException', reason: undefined, keptCachedValue: true },
      },
      {
        level: 'error',
        msg: 'Secret could not be loaded',
        obj: { event: 'secrets.secret_failed', name: 'OPTIONAL', code: 'InvalidValue', reason: 'empty', keptCachedValue: false },
      },
    ]);
    expect(logger.text()).not.toContain('canary-token-3141');
  });

  it('says nothing of an optional secret that never had a value and still has none, but reports a required one', () => {
    const logger = captureLogger();

    logSecretFailures(logger, catalog, EMPTY_SNAPSHOT, [
      { name: 'OPTIONAL', code: 'NotSet', transient: false },
      { name: 'OPTIONAL', code: 'ResourceNotFoundException', transient: false },
      { name: 'TOKEN', code: 'NotSet', transient: false },
      { name: 'NOT_IN_CATALOG', code: 'NotSet', transient: false },
    ]);

    expect(logger.lines.map((l) => [l.level, l.obj.name, l.obj.code])).toEqual([['error', 'TOKEN', 'NotSet']]);
  });
});

describe('logRefreshed and logRefreshFailed', () => {
  it('logs the changed names and version ids, or that nothing changed', () => {
    const logger = captureLogger();

    logRefreshed(logger, { ok: true, reason: 'scheduled', changed: [{ name: 'TOKEN', versionId: 'v2', previousVersionId: 'v1' }, { name: 'OTHER' }], failed: [] });
    logRefreshed(logger, { ok: true, reason: 'notice', names: ['TOKEN'], changed: [], failed: [] });

    expect(logger.lines).toEqual([
      {
        level: 'info',
        msg: 'Secrets refreshed; changed: TOKEN, OTHER',
        obj: { event: 'secrets.refreshed', reason: 'scheduled', changed: [{ name: 'TOKEN', versionId: 'v2' }, { name: 'OTHER', versionId: null }] },
      },
      { level: 'info', msg: 'Secrets refreshed; nothing changed', obj: { event: 'secrets.refreshed', reason: 'notice', names: ['TOKEN'], changed: [] } },
    ]);
  });

  it('logs a failed attempt with its code and count, at warn when transient, and says which phase failed', () => {
    const logger = captureLogger();

    logRefreshFailed(logger, { ok: false, reason: 'retry', code: 'ThrottlingException', transient: true }, 3);
    logRefreshFailed(logger, { ok: false, reason: 'startup', names: ['TOKEN'], code: 'AccessDeniedException', transient: false }, 1);

    expect(logger.lines).toEqual([
      {
        level: 'warn',
        msg: 'Secret refresh failed; keeping cached values',
        obj: { event: 'secrets.refresh_failed', reason: 'retry', code: 'ThrottlingException', consecutiveFailures: 3 },
      },
      {
        level: 'error',
        msg: 'Loading secrets failed',
        obj: { event: 'secrets.refresh_failed', reason: 'startup', code: 'AccessDeniedException', consecutiveFailures: 1, names: ['TOKEN'] },
      },
    ]);
  });
});
