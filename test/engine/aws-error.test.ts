import { describe, expect, it } from 'vitest';
import { classifyAwsError, errorCode, isThrottlingCode } from '../../src/engine/aws-error.js';

describe('classifyAwsError', () => {
  it.each([
    [{ name: 'ThrottlingException' }, 'ThrottlingException', true, false],
    [{ name: 'TooManyRequestsException' }, 'TooManyRequestsException', true, false],
    [{ name: 'InternalServiceError' }, 'InternalServiceError', true, false],
    [{ name: 'ServiceUnavailableException' }, 'ServiceUnavailableException', true, false],
    [{ name: 'TimeoutError' }, 'TimeoutError', true, true],
    [{ name: 'RequestTimeout' }, 'RequestTimeout', true, true],
    [{ name: 'AbortError' }, 'AbortError', true, true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 503 } }, 'Whatever', true, false],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 500 } }, 'Whatever', true, false],
    [{ name: 'SlowDown', $metadata: { httpStatusCode: 429 } }, 'SlowDown', true, false],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 499 } }, 'Whatever', false, false],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED', true, true],
    [Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' }), 'UND_ERR_SOCKET', true, true],
    [Object.assign(new Error('exists'), { code: 'EEXIST' }), 'EEXIST', false, false],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, 'AccessDeniedException', false, false],
    [{ name: 'ResourceNotFoundException' }, 'ResourceNotFoundException', false, false],
    [{ name: 'DecryptionFailure' }, 'DecryptionFailure', false, false],
    [new Error('plain'), 'UnknownError', false, false],
    [undefined, 'UnknownError', false, false],
  ])('sorts %o as %s (transient: %s, unreachable: %s)', (err, code, transient, unreachable) => {
    expect(classifyAwsError(err)).toEqual({ code, transient, unreachable });
  });
});

describe('errorCode', () => {
  it('names an error by its AWS name, its Node code, or UnknownError, never by its message', () => {
    expect(errorCode({ name: 'AccessDeniedException' })).toBe('AccessDeniedException');
    expect(errorCode(Object.assign(new Error('canary-message-value'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(errorCode(new Error('canary-message-value'))).toBe('UnknownError');
    expect(errorCode('a string thrown')).toBe('UnknownError');
  });
});

describe('classifyAwsError: every name and code it knows', () => {
  it.each(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'InternalServiceError', 'InternalFailure', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException'])(
    'treats the service error %s as transient, the endpoint reached',
    (name) => {
      expect(classifyAwsError({ name, $metadata: { httpStatusCode: 400 } })).toEqual({ code: name, transient: true, unreachable: false });
    },
  );

  it.each(['RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'AbortError', 'AttemptTimeout'])('treats the timeout %s as transient and unreachable', (name) => {
    expect(classifyAwsError({ name })).toEqual({ code: name, transient: true, unreachable: true });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])(
    'treats the network code %s as transient and unreachable, whatever the error is called',
    (code) => {
      expect(classifyAwsError(Object.assign(new Error('x'), { name: 'SomeError', code }))).toEqual({ code, transient: true, unreachable: true });
    },
  );

  it('ignores a code that is not a string', () => {
    expect(classifyAwsError({ code: 42 })).toEqual({ code: 'UnknownError', transient: false, unreachable: false });
    expect(classifyAwsError({ name: 'Error', code: 'EEXIST' })).toEqual({ code: 'EEXIST', transient: false, unreachable: false });
  });
});

describe('isThrottlingCode', () => {
  it('knows the codes of a call turned away for its rate, and nothing else', () => {
    expect(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'].map(isThrottlingCode)).toEqual([true, true, true]);
    expect(['InternalServiceError', 'AccessDeniedException', 'Timeout', 'ECONNRESET'].map(isThrottlingCode)).toEqual([false, false, false, false]);
  });
});
