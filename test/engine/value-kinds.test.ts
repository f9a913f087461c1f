import { describe, expect, it } from 'vitest';
import { decimal, integer, postgresUrl, redisUrl, text } from '../../src/engine/value-kinds.js';

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
