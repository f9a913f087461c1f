import { describe, expect, it } from 'vitest';
import { dependencyErrorCode } from '../../src/service/error-code.js';

describe('dependencyErrorCode', () => {
  it('takes a driver-supplied dbCode first, then a code, then what the engine calls the error', () => {
    expect(dependencyErrorCode(Object.assign(new Error('x'), { dbCode: '57P01', code: 'ECONNRESET' }))).toBe('57P01');
    // pg's DatabaseError is named 'error'; its SQLSTATE is the code.
    expect(dependencyErrorCode(Object.assign(new Error('password authentication failed'), { name: 'error', code: '28P01' }))).toBe('28P01');
    expect(dependencyErrorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(dependencyErrorCode(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe('ThrottlingException');
    expect(dependencyErrorCode(new Error('x'))).toBe('UnknownError');
    expect(dependencyErrorCode(Object.assign(new Error('x'), { code: '' }))).toBe('UnknownError');
    expect(dependencyErrorCode(undefined)).toBe('UnknownError');
    expect(dependencyErrorCode('a string thrown')).toBe('UnknownError');
  });

  it('never returns the message, which may quote a connection string', () => {
    const canary = 'postgres://app:canary-pw-7f3a@db:5432/app';
    expect(dependencyErrorCode(new Error(canary))).not.toContain('canary');
    expect(dependencyErrorCode({ message: canary })).not.toContain('canary');
  });
});
