import { describe, expect, it } from 'vitest';
import { isUnclearOutcome } from '../../src/rotation/unclear-outcome.js';

describe('isUnclearOutcome', () => {
  it('takes a 4xx answer from Secrets Manager as a request that changed nothing', () => {
    expect(isUnclearOutcome({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isUnclearOutcome({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isUnclearOutcome({ $metadata: { httpStatusCode: 499 } })).toBe(false);
    // The SDK's own verdict suffices, with or without a status.
    expect(isUnclearOutcome({ $fault: 'client' })).toBe(false);
  });

  it('takes a timeout, a broken connection or a 5xx as a request that may have been applied', () => {
    expect(isUnclearOutcome(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(true);
    expect(isUnclearOutcome(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isUnclearOutcome({ name: 'InternalServiceError', $fault: 'server', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isUnclearOutcome(undefined)).toBe(true);
    expect(isUnclearOutcome({ $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isUnclearOutcome({ $metadata: { httpStatusCode: 399 } })).toBe(true);
    // Only a number is an HTTP status: anything else proves nothing about the request.
    expect(isUnclearOutcome({ $metadata: { httpStatusCode: '404' } })).toBe(true);
  });
});
