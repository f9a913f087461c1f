import { describe, expect, it } from 'vitest';
import { parseCliOptions } from '../../src/local-aws/cli-options.js';

describe('npm run local-aws options', () => {
  it('registers rotation functions given as ARN=URL, repeatable', () => {
    const parsed = parseCliOptions([
      '--port', '0',
      '--rotation-function', 'arn:aws:lambda:us-east-1:123456789012:function:a=http://127.0.0.1:9000/2015-03-31/functions/function/invocations',
      '--rotation-function', 'arn:aws:lambda:us-east-1:123456789012:function:b=http://localhost:9001/',
    ]);

    expect(parsed).toEqual({
      kind: 'start',
      options: {
        port: 0,
        rotationFunctions: {
          'arn:aws:lambda:us-east-1:123456789012:function:a': { url: 'http://127.0.0.1:9000/2015-03-31/functions/function/invocations' },
          'arn:aws:lambda:us-east-1:123456789012:function:b': { url: 'http://localhost:9001/' },
        },
      },
    });
  });

  it.each([
    ['no-equals-sign', 'takes ARN=URL'],
    ['arn:x=http://192.0.2.1/', 'loopback'],
    ['arn:x=ftp://127.0.0.1/', 'http: or https:'],
  ])('refuses a rotation function it cannot use (%s)', (spec, message) => {
    const parsed = parseCliOptions(['--rotation-function', spec]);

    expect(parsed.kind).toBe('usage-error');
    expect(parsed.kind === 'usage-error' ? parsed.message : '').toContain(message);
  });
});
