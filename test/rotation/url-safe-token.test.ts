import { describe, expect, it } from 'vitest';
import { generateToken } from '../../src/provisioning/generate-token.js';
import { isUrlSafeToken } from '../../src/rotation/url-safe-token.js';

describe('isUrlSafeToken', () => {
  it('accepts what generateToken makes from 48 bytes: 64 URL-safe characters', () => {
    for (let i = 0; i < 50; i += 1) {
      const t = generateToken(48);
      expect(isUrlSafeToken(t)).toBe(true);
      expect(encodeURIComponent(t)).toBe(t);
    }
    expect(isUrlSafeToken(generateToken(16), 16)).toBe(true);
  });

  it('tells a token of another shape or length', () => {
    expect(isUrlSafeToken(`${'a'.repeat(63)}+`)).toBe(false);
    expect(isUrlSafeToken(`${'a'.repeat(63)}=`)).toBe(false);
    expect(isUrlSafeToken(`+${'a'.repeat(63)}`)).toBe(false);
    expect(isUrlSafeToken('a'.repeat(63))).toBe(false);
    expect(isUrlSafeToken('a'.repeat(65))).toBe(false);
    expect(isUrlSafeToken('a'.repeat(21), 16)).toBe(false);
  });
});
