import { describe, expect, it } from 'vitest';
import { isUrlSafeToken, newUrlSafeToken } from '../../src/rotation/random-token.js';

describe('newUrlSafeToken', () => {
  it('gives 64 URL-safe characters from 48 random bytes, different each time', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newUrlSafeToken()));
    expect(tokens.size).toBe(200);
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(isUrlSafeToken(t)).toBe(true);
      expect(encodeURIComponent(t)).toBe(t);
    }
  });

  it('tells a token of another shape', () => {
    expect(isUrlSafeToken(`${'a'.repeat(63)}+`)).toBe(false);
    expect(isUrlSafeToken('a'.repeat(63))).toBe(false);
    expect(isUrlSafeToken(newUrlSafeToken(16), 16)).toBe(true);
  });
});
