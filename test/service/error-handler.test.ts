import { describe, expect, it } from 'vitest';
import { HTTP_ERRORS, publicErrorFor } from '../../src/service/error-handler.js';
import {
  BadRequestError,
  DatabaseUnavailableError,
  ForbiddenError,
  InvalidSignatureError,
  ThrottledError,
  UnauthorizedError,
} from '../../src/service/errors.js';

describe('publicErrorFor', () => {
  it.each([
    [new UnauthorizedError(), 401, 'UNAUTHORIZED'],
    [new InvalidSignatureError(), 401, 'UNAUTHORIZED'],
    [new ForbiddenError(), 403, 'FORBIDDEN'],
    [new ThrottledError(30), 429, 'TOO_MANY_ATTEMPTS'],
    [new BadRequestError('x'), 400, 'BAD_REQUEST'],
    [new DatabaseUnavailableError('ECONNREFUSED'), 503, 'SERVICE_UNAVAILABLE'],
    [Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413, 'PAYLOAD_TOO_LARGE'],
    [Object.assign(new Error('limited'), { statusCode: 429 }), 429, 'RATE_LIMITED'],
    [Object.assign(new Error('teapot'), { statusCode: 418 }), 418, 'BAD_REQUEST'],
  ])('maps %s to %i %s', (err, status, code) => {
    expect(publicErrorFor(err)).toMatchObject({ status, code });
  });

  it('answers 500 with a generic message for anything else, whatever it says', () => {
    const pub = publicErrorFor(new Error('password authentication failed for user "app" at db.internal'));

    expect(pub).toEqual({ status: 500, code: 'INTERNAL', message: 'Internal server error' });
  });

  it('treats a 5xx status carried by an unknown error as internal', () => {
    expect(publicErrorFor(Object.assign(new Error('x'), { statusCode: 502 })).code).toBe('INTERNAL');
    expect(publicErrorFor(undefined).code).toBe('INTERNAL');
  });

  it('has fixed public messages that never interpolate anything', () => {
    for (const pub of Object.values(HTTP_ERRORS)) expect(pub.message).not.toMatch(/\$\{|%s/);
  });
});
