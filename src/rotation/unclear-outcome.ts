/**
 * Whether a failed write may still have been applied. Secrets Manager's 4xx answers (`$fault:
 * 'client'`: denied, not found, invalid, throttled) reject a request before it changes anything;
 * a timeout, a broken connection or a 5xx leaves it open, so the caller must look before it
 * assumes either outcome.
 */
export function isUnclearOutcome(err: unknown): boolean {
  const e = (err ?? {}) as { $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.$fault === 'client') return false;
  const status = e.$metadata?.httpStatusCode;
  return !(typeof status === 'number' && status >= 400 && status < 500);
}
