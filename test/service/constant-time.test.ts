import { describe, expect, it } from 'vitest';
import { matchesAny, matchIndex } from '../../src/service/constant-time.js';

describe('matchIndex', () => {
  it('finds the current value at index 0 and the previous at index 1', () => {
    expect(matchIndex('new-token', ['new-token', 'old-token'])).toBe(0);
    expect(matchIndex('old-token', ['new-token', 'old-token'])).toBe(1);
  });

  it('refuses a value of another length, a prefix, a one-character change and an empty value', () => {
    const accepted = ['abcdefghijklmnop'];

    expect(matchesAny('abcdefghijklmnopq', accepted)).toBe(false);
    expect(matchesAny('abcdefgh', accepted)).toBe(false);
    expect(matchesAny('abcdefghijklmnoP', accepted)).toBe(false);
    expect(matchesAny('', accepted)).toBe(false);
  });

  it('refuses everything when nothing is accepted or nothing is presented', () => {
    expect(matchesAny('anything', [])).toBe(false);
    expect(matchesAny(undefined, ['token'])).toBe(false);
  });

  it('compares unicode by its UTF-8 bytes', () => {
    expect(matchesAny('pässwörd-✓', ['pässwörd-✓'])).toBe(true);
    expect(matchesAny('pa\u0308sswörd-✓', ['pässwörd-✓'])).toBe(false);
  });
});
