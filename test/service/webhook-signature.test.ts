import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../src/service/webhook-signature.js';

const SECRET = 'meta-app-secret-for-vectors';
const PREVIOUS = 'previous-meta-app-secret';

const hmac = (body: Buffer | string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

describe('verifyWebhookSignature', () => {
  it('accepts the HMAC-SHA256 of the exact bytes, as Meta computes it', () => {
    const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');

    expect(verifyWebhookSignature(body, `sha256=${hmac(body)}`, [SECRET])).toEqual({ ok: true, secretIndex: 0 });
  });

  it('matches the published HMAC-SHA256 test vector', () => {
    // HMAC_SHA256("key", "The quick brown fox jumps over the lazy dog"), as listed on Wikipedia's HMAC page.
    const body = Buffer.from('The quick brown fox jumps over the lazy dog');

    expect(verifyWebhookSignature(body, 'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8', ['key']).ok).toBe(true);
  });

  it('signs escaped unicode as sent, not as re-serialised', () => {
    const sent = Buffer.from('{"text":"caf\\u00e9 \\ud83d\\ude00"}');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(sent.toString())));
    const header = `sha256=${hmac(sent)}`;

    expect(reserialised.equals(sent)).toBe(false);
    expect(verifyWebhookSignature(sent, header, [SECRET]).ok).toBe(true);
    expect(verifyWebhookSignature(reserialised, header, [SECRET]).ok).toBe(false);
  });

  it('signs raw UTF-8 bytes, distinct from their escaped form', () => {
    const raw = Buffer.from('{"text":"café 😀"}', 'utf8');

    expect(verifyWebhookSignature(raw, `sha256=${hmac(raw)}`, [SECRET]).ok).toBe(true);
    expect(verifyWebhookSignature(Buffer.from('{"text":"caf\\u00e9 \\ud83d\\ude00"}'), `sha256=${hmac(raw)}`, [SECRET]).ok).toBe(false);
  });

  it('treats whitespace as part of the signed bytes', () => {
    const pretty = Buffer.from('{\n  "object": "page"\n}\n');
    const compact = Buffer.from('{"object":"page"}');

    expect(verifyWebhookSignature(pretty, `sha256=${hmac(pretty)}`, [SECRET]).ok).toBe(true);
    expect(verifyWebhookSignature(compact, `sha256=${hmac(pretty)}`, [SECRET]).ok).toBe(false);
    expect(verifyWebhookSignature(Buffer.concat([pretty, Buffer.from(' ')]), `sha256=${hmac(pretty)}`, [SECRET]).ok).toBe(false);
  });

  it('refuses a body with one byte changed', () => {
    const body = Buffer.from('{"object":"whatsapp_business_account","n":1}');
    const header = `sha256=${hmac(body)}`;
    const tampered = Buffer.from(body);
    tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 0x01;

    expect(verifyWebhookSignature(tampered, header, [SECRET]).ok).toBe(false);
  });

  it('refuses a signature with one hex digit changed', () => {
    const body = Buffer.from('{}');
    const hex = hmac(body);
    const flipped = (hex[0] === 'a' ? 'b' : 'a') + hex.slice(1);

    expect(verifyWebhookSignature(body, `sha256=${flipped}`, [SECRET])).toEqual({ ok: false, reason: 'mismatch' });
  });

  it.each([
    ['a missing header', undefined],
    ['an empty header', ''],
    ['another algorithm prefix', `sha1=${'a'.repeat(40)}`],
    ['the SHA-256 digest under a sha1 prefix', 'sha1=<digest>'],
    ['no prefix', '<digest>'],
    ['an upper-case prefix', 'SHA256=<digest>'],
    ['non-hex digits', `sha256=${'z'.repeat(64)}`],
    ['a short digest', `sha256=${'a'.repeat(62)}`],
    ['a long digest', `sha256=${'a'.repeat(66)}`],
    ['an odd-length digest', `sha256=${'a'.repeat(63)}`],
    ['surrounding spaces', ' sha256=<digest> '],
    ['two signatures', 'sha256=<digest>,sha256=<digest>'],
  ])('refuses %s without throwing', (_label, header) => {
    const body = Buffer.from('{"object":"page"}');
    const value = header?.replace(/<digest>/g, hmac(body));

    expect(verifyWebhookSignature(body, value, [SECRET])).toEqual({ ok: false, reason: header === undefined ? 'missing' : 'malformed' });
  });

  it('accepts upper-case hex digits', () => {
    const body = Buffer.from('{}');

    expect(verifyWebhookSignature(body, `sha256=${hmac(body).toUpperCase()}`, [SECRET]).ok).toBe(true);
  });

  it('accepts the previous secret within its grace window and says so', () => {
    const body = Buffer.from('{"object":"page"}');

    expect(verifyWebhookSignature(body, `sha256=${hmac(body, PREVIOUS)}`, [SECRET, PREVIOUS])).toEqual({ ok: true, secretIndex: 1 });
  });

  it('refuses the previous secret once it is no longer accepted', () => {
    const body = Buffer.from('{"object":"page"}');

    expect(verifyWebhookSignature(body, `sha256=${hmac(body, PREVIOUS)}`, [SECRET]).ok).toBe(false);
  });

  it('refuses everything when no secret is accepted', () => {
    const body = Buffer.from('{}');

    expect(verifyWebhookSignature(body, `sha256=${hmac(body)}`, []).ok).toBe(false);
  });

  it('produces the header it verifies with signWebhookBody', () => {
    const body = '{"a":1}';

    expect(signWebhookBody(body, SECRET)).toBe(`sha256=${hmac(body)}`);
  });
});
