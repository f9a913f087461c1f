import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimal, integer, postgresUrl, redisUrl, text, token, type ValueKind } from '../../src/engine/value-kinds.js';

/** Input that is recognisable in any output: a parser's reason must never contain it. */
const planted = fc.string({ maxLength: 60 }).map((s) => `PLANTED${s}`);

const kinds: readonly [string, ValueKind<unknown>][] = [
  ['text', text()],
  ['token', token({ minLength: 16 })],
  ['integer', integer({ min: 1, max: 100_000 })],
  ['decimal', decimal({ min: 0, max: 2 })],
  ['postgres URL', postgresUrl()],
  ['redis URL', redisUrl()],
];

describe('value kinds (properties)', () => {
  it.each(kinds)('%s: never throws and never quotes its input in a reason', (_name, kind) => {
    fc.assert(
      fc.property(fc.oneof(planted, planted.map((p) => `postgresql://u:${p}@h/db`), planted.map((p) => ` ${p} `)), (raw) => {
        const parsed = kind.parse(raw);
        if (!parsed.ok) expect(parsed.reason).not.toContain('PLANTED');
      }),
    );
  });

  it('integer: reads back every safe integer within its bounds, surrounding spaces allowed, and refuses the rest', () => {
    const kind = integer({ min: -1_000, max: 1_000_000 });
    fc.assert(
      fc.property(fc.integer({ min: -5_000, max: 5_000_000 }), fc.constantFrom('', ' ', '\t'), (n, pad) => {
        const parsed = kind.parse(`${pad}${n}${pad}`);
        expect(parsed).toEqual(n >= -1_000 && n <= 1_000_000 ? { ok: true, value: n } : { ok: false, reason: 'out of range [-1000, 1000000]' });
      }),
    );
  });

  it('decimal: reads back every finite number within its bounds as JavaScript prints it', () => {
    const kind = decimal({ min: 0, max: 2 });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2, noNaN: true }), (x) => {
        expect(kind.parse(String(x))).toEqual({ ok: true, value: x });
      }),
    );
  });

  it('decimal: refuses every number outside its bounds', () => {
    const kind = decimal({ min: 0, max: 2 });
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 2, max: 1e6, noNaN: true, minExcluded: true }), fc.double({ min: -1e6, max: -Number.MIN_VALUE, noNaN: true })), (x) => {
        expect(kind.parse(String(x)).ok).toBe(false);
      }),
    );
  });

  it('token: accepts exactly the values at least as long as the minimum, with 5 different characters, and no surrounding space', () => {
    const kind = token({ minLength: 16 });
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'grapheme' }), (raw) => {
        const chars = [...raw];
        const expected = raw.trim() !== '' && raw.trim() === raw && chars.length >= 16 && new Set(chars).size >= 5;
        expect(kind.parse(raw).ok).toBe(expected);
      }),
    );
  });

  it('token: accepts what the CLI generates (48 random bytes, base64 or base64url), a thousand times over', () => {
    const kind = token({ minLength: 32 });
    // 64 characters drawn from 64: fewer than 5 different ones has odds below 1e-70.
    for (let i = 0; i < 1_000; i++) {
      const bytes = randomBytes(48);
      expect(kind.parse(bytes.toString('base64url')).ok).toBe(true);
      expect(kind.parse(bytes.toString('base64')).ok).toBe(true);
    }
  });
});
