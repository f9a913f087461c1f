import { describe, expect, it } from 'vitest';
import { decimal, integer, postgresUrl, redisUrl, text, token } from '../../src/engine/value-kinds.js';

const CANARY = 'canary-value-kinds-1234';

describe('value kinds', () => {
  it.each([
    [integer({ min: 1 }), '1000', 1000],
    [integer({ min: 1 }), ' 42 ', 42],
    [decimal({ min: 0, max: 2 }), '0.7', 0.7],
    [decimal({ min: 0, max: 2 }), '2', 2],
    [postgresUrl(), 'postgresql://u:p@localhost:5432/db?schema=public', 'postgresql://u:p@localhost:5432/db?schema=public'],
    [postgresUrl(), 'postgres://db.internal/app', 'postgres://db.internal/app'],
    [redisUrl(), 'rediss://cache.internal:6380', 'rediss://cache.internal:6380'],
    [text(), 'sk-abc', 'sk-abc'],
  ])('accepts a valid value (%#)', (kind, raw, value) => {
    expect(kind.parse(raw)).toEqual({ ok: true, value });
  });

  it.each([
    [integer({ min: 1 }), `${CANARY}`, 'not an integer'],
    [integer({ min: 1 }), '0', 'out of range'],
    [integer({ min: 1 }), '1.5', 'not an integer'],
    [decimal({ min: 0, max: 2 }), '2.5', 'out of range'],
    [decimal({ min: 0, max: 2 }), `0.7${CANARY}`, 'not a number'],
    [postgresUrl(), `http://${CANARY}@host/db`, 'wrong scheme'],
    [postgresUrl(), `${CANARY} not a url`, 'not a valid URL'],
    [redisUrl(), `postgres://${CANARY}@host`, 'wrong scheme'],
    [text(), '   ', 'empty'],
    [text(), ` ${CANARY}`, 'whitespace'],
  ])('rejects an invalid value with a reason that never quotes it (%#)', (kind, raw, reason) => {
    const parsed = kind.parse(raw);
    expect(parsed.ok).toBe(false);
    const text = JSON.stringify(parsed);
    expect(text).toContain(reason);
    expect(text).not.toContain(CANARY);
  });
});

describe('token (a credential with a minimum strength)', () => {
  it('accepts a value at the minimum length with enough different characters', () => {
    expect(token({ minLength: 16 }).parse('abcde12345abcde1')).toEqual({ ok: true, value: 'abcde12345abcde1' });
  });

  it.each([
    ['one character', 'a', 'shorter than 16 characters'],
    ['one character short', 'abcde12345abcde', 'shorter than 16 characters'],
    ['long but repetitive', 'abab'.repeat(10), 'fewer than 5 different characters'],
    ['blank', '  ', 'empty'],
    ['padded', ` ${CANARY} `, 'whitespace'],
  ])('refuses %s, naming the rule and never the value', (_label, raw, reason) => {
    const parsed = token({ minLength: 16 }).parse(raw);

    expect(parsed).toEqual({ ok: false, reason: expect.stringContaining(reason) });
    if (raw.trim().length > 1) expect(JSON.stringify(parsed)).not.toContain(raw.trim());
  });

  it('counts characters, not bytes', () => {
    expect(token({ minLength: 5 }).parse('ééééé').ok).toBe(false);
    expect(token({ minLength: 5, minDistinct: 1 }).parse('ééééé').ok).toBe(true);
    expect(token({ minLength: 6, minDistinct: 1 }).parse('ééééé').ok).toBe(false);
  });

  it('says its rule in its label', () => {
    expect(token({ minLength: 32 }).label).toBe('string of at least 32 characters, 5 or more of them different');
  });
});
