import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { currentSinceMs, previousAccepted, previousWanted, type HeldVersion } from '../../src/engine/rotation-grace.js';
import { IMMEDIATE_ROTATION_STAGE, type SecretRecord } from '../../src/engine/source.js';
import { text } from '../../src/engine/value-kinds.js';

const catalog = defineCatalog({
  TOKEN: { kind: text(), required: true, description: 'token', acceptsPrevious: true },
  URL: { kind: text(), required: true, description: 'url' },
});
const NOW = Date.UTC(2026, 0, 1);
const GRACE = 60_000;
const held = (over: Partial<HeldVersion> = {}): HeldVersion => ({
  versionId: 'v1',
  createdAtMs: NOW - 3_600_000,
  stages: ['AWSCURRENT'],
  sinceMs: NOW - 10_000,
  previous: { raw: 'old' },
  ...over,
});

describe('currentSinceMs', () => {
  it('starts the window at the new version’s creation, however late it is seen', () => {
    expect(currentSinceMs({ createdAtMs: NOW - 5_000 }, held(), NOW)).toBe(NOW - 5_000);
    expect(currentSinceMs({ createdAtMs: NOW - 5_000 }, undefined, NOW)).toBe(NOW - 5_000);
  });

  it('starts it when seen for a version without a creation date, or one older than the version it replaces (a rollback)', () => {
    expect(currentSinceMs({}, held(), NOW)).toBe(NOW);
    expect(currentSinceMs({ createdAtMs: NOW - 7_200_000 }, held(), NOW)).toBe(NOW);
    expect(currentSinceMs({ createdAtMs: NOW - 3_600_000 }, held(), NOW)).toBe(NOW - 3_600_000);
    expect(currentSinceMs({ createdAtMs: NOW - 7_200_000 }, held({ createdAtMs: undefined }), NOW)).toBe(NOW - 7_200_000);
  });
});

describe('currentSinceMs with the switch stamp', () => {
  it('starts the window at the switch the finish step stamped, not at the version’s creation', () => {
    expect(currentSinceMs({ createdAtMs: NOW - 7_200_000, stages: ['AWSCURRENT', `SWITCHED_AT_${NOW - 5_000}`] }, held({ createdAtMs: NOW - 9_000_000 }), NOW)).toBe(NOW - 5_000);
    expect(currentSinceMs({ createdAtMs: NOW - 7_200_000, stages: ['AWSCURRENT', `SWITCHED_AT_${NOW - 5_000}`] }, undefined, NOW)).toBe(NOW - 5_000);
    expect(currentSinceMs({ createdAtMs: NOW - 7_200_000, stages: ['AWSCURRENT', 'SWITCHED_AT_', 'SWITCHED_AT_x1'] }, undefined, NOW)).toBe(NOW - 7_200_000);
  });

  it('fetches the previous value of a version created long ago but switched to within the window', () => {
    const records: SecretRecord[] = [{ name: 'TOKEN', raw: 'new', versionId: 'v2', createdAtMs: NOW - 7_200_000, stages: ['AWSCURRENT', `SWITCHED_AT_${NOW - 1_000}`] }];
    expect(previousWanted(catalog, records, new Map(), GRACE, NOW).map((e) => e.name)).toEqual(['TOKEN']);
    expect(previousWanted(catalog, records, new Map(), GRACE, NOW - 1_000 + GRACE).map((e) => e.name)).toEqual([]);
  });
});

describe('previousAccepted', () => {
  const token = catalog.entry('TOKEN');

  it('accepts the previous value of a secret that accepts one until the window closes', () => {
    expect(previousAccepted(token, held(), GRACE, NOW)).toBe(true);
    expect(previousAccepted(token, held(), GRACE, NOW - 10_000 + GRACE - 1)).toBe(true);
    expect(previousAccepted(token, held(), GRACE, NOW - 10_000 + GRACE)).toBe(false);
  });

  it('refuses it with no previous value, for a secret that accepts none, or after an immediate rotation or rollback', () => {
    expect(previousAccepted(token, held({ previous: undefined }), GRACE, NOW)).toBe(false);
    expect(previousAccepted(catalog.entry('URL'), held(), GRACE, NOW)).toBe(false);
    expect(previousAccepted(undefined, held(), GRACE, NOW)).toBe(false);
    expect(previousAccepted(token, held({ stages: ['AWSCURRENT', IMMEDIATE_ROTATION_STAGE] }), GRACE, NOW)).toBe(false);
  });
});

describe('previousWanted', () => {
  const rec = (over: Partial<SecretRecord> = {}): SecretRecord => ({
    name: 'TOKEN',
    raw: 'new',
    versionId: 'v2',
    createdAtMs: NOW - 1_000,
    stages: ['AWSCURRENT'],
    ...over,
  });
  const wanted = (records: SecretRecord[], h: Map<string, HeldVersion> = new Map()) => previousWanted(catalog, records, h, GRACE, NOW).map((e) => e.name);

  it('asks for AWSPREVIOUS of a new version of a secret that accepts one, while its window is open', () => {
    expect(wanted([rec()])).toEqual(['TOKEN']);
    expect(wanted([rec()], new Map([['TOKEN', held()]]))).toEqual(['TOKEN']);
    expect(wanted([rec({ createdAtMs: undefined })])).toEqual(['TOKEN']);
    expect(wanted([rec({ createdAtMs: NOW - GRACE + 1 })])).toEqual(['TOKEN']);
  });

  it('does not ask for a version it holds, an old one, an immediate one, one the source brought along, or a secret that accepts none', () => {
    expect(wanted([rec({ versionId: 'v1' })], new Map([['TOKEN', held()]]))).toEqual([]);
    expect(wanted([rec({ createdAtMs: NOW - GRACE })])).toEqual([]);
    expect(wanted([rec({ stages: ['AWSCURRENT', IMMEDIATE_ROTATION_STAGE] })])).toEqual([]);
    expect(wanted([rec({ previous: { raw: 'old' } })])).toEqual([]);
    expect(wanted([rec({ name: 'URL' })])).toEqual([]);
    expect(wanted([rec({ name: 'NOT_IN_CATALOG' })])).toEqual([]);
  });
});
