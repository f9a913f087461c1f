import { describe, expect, it } from 'vitest';
import { driverErrorCode } from '../../src/engine/driver-error.js';

describe('driverErrorCode', () => {
  it('takes a driver-supplied dbCode first, then a code, then what the engine calls the error', () => {
    expect(driverErrorCode(Object.assign(new Error('x'), { dbCode: '57P01', code: 'ECONNRESET' }))).toBe('57P01');
    // pg's DatabaseError is named 'error'; its SQLSTATE is the code.
    expect(driverErrorCode(Object.assign(new Error('password authentication failed'), { name: 'error', code: '28P01' }))).toBe('28P01');
    expect(driverErrorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(driverErrorCode(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe('ThrottlingException');
    expect(driverErrorCode(new Error('x'))).toBe('UnknownError');
    expect(driverErrorCode(Object.assign(new Error('x'), { code: '' }))).toBe('UnknownError');
    expect(driverErrorCode(undefined)).toBe('UnknownError');
    expect(driverErrorCode('a string thrown')).toBe('UnknownError');
  });

  it('names a Redis error reply by its prefix, a driver timeout as Timeout, and nothing by a plain message', () => {
    expect(driverErrorCode(Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), { name: 'ReplyError' }))).toBe('WRONGPASS');
    expect(driverErrorCode(new Error('NOPERM this user has no permissions to run the acl command'))).toBe('NOPERM');
    expect(driverErrorCode(new Error('ERR unknown command'))).toBe('UnknownError');
    expect(driverErrorCode(new Error('Connection terminated due to connection timeout'))).toBe('Timeout');
    expect(driverErrorCode(Object.assign(new Error('Query read timeout'), { name: 'error' }))).toBe('Timeout');
    expect(driverErrorCode(Object.assign(new Error('x'), { code: 'not a code: it has spaces' }))).toBe('UnknownError');
    // Only a leading word is a reply's prefix; an upper-case word elsewhere is message text.
    expect(driverErrorCode(new Error('connection refused by the SSL proxy'))).toBe('UnknownError');
    // A message that is not a string is not read, whatever it turns into.
    expect(driverErrorCode({ message: { toString: () => 'NOPERM planted' } })).toBe('UnknownError');
  });

  it('never returns the message, which may quote a connection string', () => {
    const canary = 'postgres://app:canary-pw-7f3a@db:5432/app';
    expect(driverErrorCode(new Error(canary))).not.toContain('canary');
    expect(driverErrorCode({ message: canary })).not.toContain('canary');
  });
});
