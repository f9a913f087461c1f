import { describe, expect, it } from 'vitest';
import { readAttempt } from '../../src/engine/attempt-reader.js';
import { defineCatalog, type CatalogEntry } from '../../src/engine/catalog.js';
import type { LoadResult, SecretSource } from '../../src/engine/source.js';
import { text } from '../../src/engine/value-kinds.js';
import { captureLogger } from '../support/capture-logger.js';

const catalog = defineCatalog({
  TOKEN: { kind: text(), required: true, description: 'token', acceptsPrevious: true },
  VERIFY: { kind: text(), required: true, description: 'verify', acceptsPrevious: true },
  URL: { kind: text(), required: true, description: 'url' },
});
const NOW = Date.UTC(2026, 0, 1);
const signal = new AbortController().signal;

function source(previous: LoadResult, withIndividual = true) {
  const calls: string[] = [];
  const answer = (op: string) => async (entries: readonly CatalogEntry[]): Promise<LoadResult> => {
    calls.push(`${op}:${entries.map((e) => e.name).join(',')}`);
    return { records: entries.map((e) => ({ name: e.name, raw: `${e.name}-new`, versionId: 'v2', createdAtMs: NOW - 1_000 })), failures: [] };
  };
  const s: SecretSource = {
    kind: 'aws',
    description: 'stub',
    load: answer('load'),
    ...(withIndividual && { loadIndividually: answer('loadIndividually') }),
    loadPrevious: async (entries) => {
      calls.push(`loadPrevious:${entries.map((e) => e.name).join(',')}`);
      return previous;
    },
  };
  return { s, calls };
}

describe('readAttempt', () => {
  it('loads the whole catalog at once, then AWSPREVIOUS of the new versions that accept one', async () => {
    const { s, calls } = source({ records: [{ name: 'TOKEN', raw: 'TOKEN-old', versionId: 'v1' }], failures: [] });
    const logger = captureLogger();

    const result = await readAttempt({ catalog, source: s, logger, graceMs: 60_000 }, { seq: 4, scope: 'all', reason: 'scheduled' }, new Map(), NOW, signal);

    expect(calls).toEqual(['load:TOKEN,VERIFY,URL', 'loadPrevious:TOKEN,VERIFY']);
    expect(result).toMatchObject({ attempt: 4, full: true, entries: catalog.entries, failures: [] });
    expect(result.previous).toEqual(new Map([['TOKEN', { raw: 'TOKEN-old', versionId: 'v1' }]]));
  });

  it('reads named secrets one by one where the source can, and with load where it cannot', async () => {
    const names = { seq: 5, scope: new Set(['URL']), reason: 'notice' } as const;
    const individual = source({ records: [], failures: [] });
    const plain = source({ records: [], failures: [] }, false);
    const options = { catalog, logger: captureLogger(), graceMs: 60_000 };

    const one = await readAttempt({ ...options, source: individual.s }, names, new Map(), NOW, signal);
    await readAttempt({ ...options, source: plain.s }, names, new Map(), NOW, signal);

    expect(individual.calls).toEqual(['loadIndividually:URL']);
    expect(plain.calls).toEqual(['load:URL']);
    expect(one).toMatchObject({ full: false, entries: [catalog.entry('URL')] });
  });

  it('warns about a previous version it could not read, except one that does not exist', async () => {
    const { s } = source({
      records: [],
      failures: [
        { name: 'TOKEN', code: 'ResourceNotFoundException', transient: false },
        { name: 'VERIFY', code: 'ThrottlingException', transient: true },
      ],
    });
    const logger = captureLogger();

    const result = await readAttempt({ catalog, source: s, logger, graceMs: 60_000 }, { seq: 1, scope: 'all', reason: 'startup' }, new Map(), NOW, signal);

    expect(result.previous.size).toBe(0);
    expect(logger.lines).toEqual([
      { level: 'warn', msg: 'Could not load previous version', obj: { event: 'secrets.previous_failed', name: 'VERIFY', code: 'ThrottlingException' } },
    ]);
  });

  it('stops at an aborted signal before handing back anything', async () => {
    const { s } = source({ records: [], failures: [] });
    const abort = new AbortController();
    abort.abort(new Error('deadline'));

    await expect(readAttempt({ catalog, source: s, logger: captureLogger(), graceMs: 0 }, { seq: 1, scope: 'all', reason: 'startup' }, new Map(), NOW, abort.signal)).rejects.toThrow('deadline');
  });
});
