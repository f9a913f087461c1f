import { describe, expect, it } from 'vitest';
import { generateToken } from '../../src/provisioning/generate-token.js';

describe('generateToken', () => {
  it('turns 48 random bytes into 64 URL-safe characters', () => {
    const token = generateToken(48);

    expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(48);
  });

  it('survives a query string unencoded, as in the webhook handshake curl', () => {
    // Bytes that base64 renders as '+', '/' and '=': the characters a query string mangles.
    const tokens = [generateToken(48, (n) => Buffer.alloc(n, 0xfb)), generateToken(47, (n) => Buffer.alloc(n, 0xff)), ...Array.from({ length: 200 }, () => generateToken(48))];

    for (const token of tokens) {
      const url = new URL(`http://127.0.0.1/webhook?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1`);
      expect(url.searchParams.get('hub.verify_token')).toBe(token);
    }
  });

  it('uses the injected randomness', () => {
    expect(generateToken(3, (n) => Buffer.alloc(n, 0xff))).toBe('____');
  });
});
