import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../src/service/webhook-signature.js';

/** Bodies as Meta may send them (any bytes) and app secrets as the catalog accepts them. */
const body = fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b));
const secret = fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' });

describe('verifyWebhookSignature (properties)', () => {
  it("accepts every body signed with the secret, in Meta's lowercase or in uppercase hex", () => {
    fc.assert(
      fc.property(body, secret, (b, s) => {
        const header = signWebhookBody(b, s);
        expect(verifyWebhookSignature(b, header, [s])).toEqual({ ok: true, secretIndex: 0 });
        expect(verifyWebhookSignature(b, `sha256=${header.slice(7).toUpperCase()}`, [s]).ok).toBe(true);
      }),
    );
  });

  it('refuses a signature of any other body', () => {
    fc.assert(
      fc.property(body, body, secret, (a, b, s) => {
        fc.pre(!a.equals(b));
        expect(verifyWebhookSignature(b, signWebhookBody(a, s), [s]).ok).toBe(false);
      }),
    );
  });

  it('refuses a signature made with any other secret', () => {
    fc.assert(
      fc.property(body, secret, secret, (b, s, other) => {
        fc.pre(Buffer.from(s).compare(Buffer.from(other)) !== 0);
        expect(verifyWebhookSignature(b, signWebhookBody(b, other), [s]).ok).toBe(false);
      }),
    );
  });

  it('refuses the signature with any one hex digit changed', () => {
    fc.assert(
      fc.property(body, secret, fc.nat({ max: 63 }), fc.nat({ max: 14 }), (b, s, position, shift) => {
        const digits = signWebhookBody(b, s).slice(7).split('');
        const hex = '0123456789abcdef';
        digits[position] = hex[(hex.indexOf(digits[position]!) + shift + 1) % 16]!;
        expect(verifyWebhookSignature(b, `sha256=${digits.join('')}`, [s]).ok).toBe(false);
      }),
    );
  });

  it('never throws on any header, and accepts only the exact HMAC', () => {
    fc.assert(
      fc.property(body, secret, fc.oneof(fc.string({ maxLength: 80 }), fc.constant(undefined)), (b, s, header) => {
        const check = verifyWebhookSignature(b, header, [s]);
        const expected = createHmac('sha256', s).update(b).digest('hex');
        expect(check.ok).toBe(header !== undefined && header.toLowerCase() === `sha256=${expected}`);
      }),
    );
  });

  it('reports which accepted secret signed the body: the first that matches', () => {
    fc.assert(
      fc.property(body, fc.uniqueArray(secret, { minLength: 1, maxLength: 3, selector: (s) => Buffer.from(s).toString('hex') }), fc.nat(), (b, secrets, pick) => {
        const index = pick % secrets.length;
        expect(verifyWebhookSignature(b, signWebhookBody(b, secrets[index]!), secrets)).toEqual({ ok: true, secretIndex: index });
      }),
    );
  });
});
