import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
const SIGNATURE_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Why a signature was refused (`webhook_signature_failures_total{reason}`): `missing` no header,
 * `malformed` not `sha256=` and 64 hex digits, `mismatch` no accepted secret signed these bytes.
 */
export type SignatureFailure = 'missing' | 'malformed' | 'mismatch';

export type SignatureCheck = { readonly ok: true; readonly secretIndex: number } | { readonly ok: false; readonly reason: SignatureFailure };

/**
 * Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` against every accepted
 * app secret (current, then previous within its grace window). The HMAC covers the exact bytes
 * received, never a re-serialisation: JSON.stringify(JSON.parse(body)) changes escaped unicode
 * and whitespace. A missing header, another algorithm, non-hex or a wrong length is simply not
 * ok. Every secret is tried, in constant time per comparison.
 * (octokit/webhooks-methods `verifyWithFallback`)
 */
export function verifyWebhookSignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): SignatureCheck {
  if (header === undefined) return { ok: false, reason: 'missing' };
  const m = SIGNATURE_FORMAT.exec(header);
  if (m === null) return { ok: false, reason: 'malformed' };
  const presented = Buffer.from(m[1]!, 'hex');
  let secretIndex = -1;
  for (let i = 0; i < secrets.length; i++) {
    const expected = createHmac('sha256', secrets[i]!).update(rawBody).digest();
    if (timingSafeEqual(presented, expected) && secretIndex < 0) secretIndex = i;
  }
  return secretIndex < 0 ? { ok: false, reason: 'mismatch' } : { ok: true, secretIndex };
}

/** The header value Meta would send for `rawBody` signed with `secret` (for tests, benchmarks, tools). */
export function signWebhookBody(rawBody: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
