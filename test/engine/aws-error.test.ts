import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../src/engine/aws-error.js';

describe('classifyAwsError', () => {
  it.each([
    [{ name: 'ThrottlingException' }, 'ThrottlingException', true],
    [{ name: 'InternalServiceError' }, 'InternalServiceError', true],
    [{ name: 'TimeoutError' }, 'TimeoutError', true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 503 } }, 'Whatever', true],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED', true],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, 'AccessDeniedException', false],
    [{ name: 'ResourceNotFoundException' }, 'ResourceNotFoundException', false],
    [{ name: 'DecryptionFailure' }, 'DecryptionFailure', false],
    [new Error('plain'), 'UnknownError', false],
    [undefined, 'UnknownError', false],
  ])('sorts %o as %s (transient: %s)', (err, code, transient) => {
    expect(classifyAwsError(err)).toEqual({ code, transient });
  });
});
