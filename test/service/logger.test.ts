import { describe, expect, it } from 'vitest';
import { createLogger, REDACT_PATHS, redactUrl, scrubSecrets, SENSITIVE_HEADERS } from '../../src/service/logger.js';
import { captureLogs } from './support/log-capture.js';

describe('createLogger', () => {
  it('writes JSON lines with an ISO time and the service name', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.stream });

    logger.info({ event: 'x' }, 'hello');

    expect(logs.lines()[0]).toMatchObject({ level: 30, service: 'whatsapp-saas-backend', event: 'x', msg: 'hello' });
    expect(String(logs.lines()[0]!.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it.each(SENSITIVE_HEADERS)('redacts the %s header wherever a headers object appears', (header) => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.stream });

    logger.info({ headers: { [header]: 'top-level-secret' }, req: { headers: { [header]: 'nested-secret' } } }, 'h');

    expect(logs.text()).not.toContain('top-level-secret');
    expect(logs.text()).not.toContain('nested-secret');
    expect(logs.text()).toContain('[Redacted]');
  });

  it('declares the redaction paths once, from the header list', () => {
    expect(REDACT_PATHS).toContain('*.headers["x-admin-token"]');
    expect(REDACT_PATHS).toHaveLength(SENSITIVE_HEADERS.length * 2);
  });

  it('serialises a request without headers and with credential query values redacted', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.stream });

    logger.info(
      { req: { method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=vt-secret&hub.challenge=42', ip: '10.0.0.1', headers: { 'x-admin-token': 'a' } } },
      'incoming request',
    );

    const line = logs.lines()[0]!;
    expect(line.req).toEqual({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=[Redacted]&hub.challenge=42', remoteAddress: '10.0.0.1' });
    expect(logs.text()).not.toContain('vt-secret');
  });

  it('scrubs a known secret value a client put in the request path', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.stream, secretValues: () => ['planted-admin-token-0123456789abcdef'] });

    logger.info({ req: { method: 'GET', url: '/admin/planted-admin-token-0123456789abcdef?x=1', ip: '10.0.0.1' } }, 'incoming request');

    expect(logs.lines()[0]!.req).toEqual({ method: 'GET', url: '/admin/[Redacted]?x=1', remoteAddress: '10.0.0.1' });
  });

  it('serialises errors as type, code, message and stack only', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.stream });
    const err = Object.assign(new Error('boom'), { code: 'E_BOOM', parameters: ['row-value'] });

    logger.error({ err }, 'failed');

    const logged = logs.lines()[0]!.err as Record<string, unknown>;
    expect(Object.keys(logged).sort()).toEqual(['code', 'message', 'stack', 'type']);
    expect(logs.text()).not.toContain('row-value');
  });
});

describe('redactUrl', () => {
  it('leaves a URL without a query alone', () => {
    expect(redactUrl('/admin/salons')).toBe('/admin/salons');
  });

  it('redacts token, secret, signature, key and password parameters, encoded or not', () => {
    expect(redactUrl('/x?access_token=a&api%5Fkey=b&secret=c&sig=d&signature=e&password=f&limit=5')).toBe(
      '/x?access_token=[Redacted]&api%5Fkey=[Redacted]&secret=[Redacted]&sig=d&signature=[Redacted]&password=[Redacted]&limit=5',
    );
  });

  it('copes with malformed escapes and keys without values', () => {
    expect(redactUrl('/x?%E0%A4%A=1&token&a=b')).toBe('/x?%E0%A4%A=1&token&a=b');
  });
});

describe('scrubSecrets', () => {
  it('replaces every known value and a URL secret password in logged errors', () => {
    const logs = captureLogs();
    const logger = createLogger({
      level: 'info',
      destination: logs.stream,
      secretValues: () => ['postgresql://app:planted%40pass-long@db:5432/x', 'token-value-1234'],
    });

    logger.error({ err: new Error('failed for postgresql://app:planted%40pass-long@db:5432/x using planted@pass-long and token-value-1234') }, 'x');

    expect(logs.text()).not.toContain('planted@pass-long');
    expect(logs.text()).not.toContain('planted%40pass-long');
    expect(logs.text()).not.toContain('token-value-1234');
    expect((logs.lines()[0]!.err as { message: string }).message).toBe('failed for [Redacted] using [Redacted] and [Redacted]');
  });

  it('scrubs a short value too, wherever it stands alone, and never inside a longer word', () => {
    expect(scrubSecrets('auth failed for pw (password "pw"); pwned, apwb, u:pw@db', ['pw'])).toBe(
      'auth failed for [Redacted] (password "[Redacted]"); pwned, apwb, u:[Redacted]@db',
    );
    expect(scrubSecrets('key=k', ['k'])).toBe('key=[Redacted]');
    expect(scrubSecrets('a.b+c?', ['.b+c?'])).toBe('a[Redacted]');
    expect(scrubSecrets('nothing to hide', [''])).toBe('nothing to hide');
  });

  it('scrubs a short database password from a logged error', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.stream, secretValues: () => ['postgresql://app:s3c@db:5432/x'] });

    logger.error({ err: new Error('password s3c rejected for app') }, 'x');

    expect((logs.lines()[0]!.err as { message: string }).message).toBe('password [Redacted] rejected for app');
  });
});
