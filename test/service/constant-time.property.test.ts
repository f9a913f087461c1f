import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesAny, matchIndex } from '../../src/service/constant-time.js';

const token = fc.string({ maxLength: 80, unit: 'binary' });

describe('matchIndex (properties)', () => {
  it('answers exactly what indexOf would: the first accepted value equal to the presented one', () => {
    fc.assert(
      fc.property(token, fc.array(token, { maxLength: 4 }), (presented, accepted) => {
        expect(matchIndex(presented, accepted)).toBe(accepted.indexOf(presented));
      }),
    );
  });

  it('finds every accepted value it is given, and never an absent one', () => {
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 4 }), fc.nat(), (accepted, pick) => {
        const presented = accepted[pick % accepted.length]!;
        expect(matchesAny(presented, accepted)).toBe(true);
        expect(matchesAny(`${presented}x`, accepted)).toBe(accepted.includes(`${presented}x`));
      }),
    );
  });

  it('treats strings and their UTF-8 bytes alike, and nothing presented as no match', () => {
    fc.assert(
      fc.property(token, fc.array(token, { maxLength: 3 }), (presented, accepted) => {
        expect(matchIndex(Buffer.from(presented, 'utf8'), accepted)).toBe(matchIndex(presented, accepted));
        expect(matchIndex(undefined, accepted)).toBe(-1);
      }),
    );
  });
});
