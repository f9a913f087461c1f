import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/service/audit-log.js';
import { createLogger } from '../../src/service/logger.js';
import { captureLogs } from './support/log-capture.js';

describe('createAuditLog', () => {
  it('writes one admin.audit line per event, with every field and no duplicate keys', () => {
    const logs = captureLogs();
    const audit = createAuditLog(createLogger({ level: 'info', destination: logs.stream }));

    audit.record({ time: '2026-01-01T00:00:00.000Z', clientAddress: '10.1.2.3', action: 'GET /admin/salons', outcome: 'denied', statusCode: 401, requestId: 'r-1' });

    expect(logs.lines()).toHaveLength(1);
    expect(logs.lines()[0]).toMatchObject({
      event: 'admin.audit',
      audit: true,
      at: '2026-01-01T00:00:00.000Z',
      clientAddress: '10.1.2.3',
      action: 'GET /admin/salons',
      outcome: 'denied',
      statusCode: 401,
      requestId: 'r-1',
    });
    expect(logs.text().match(/"time"/g)).toHaveLength(1);
  });

  it('keeps writing when LOG_LEVEL silences everything else', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'silent', destination: logs.stream });
    const audit = createAuditLog(logger);

    logger.error({}, 'dropped');
    audit.record({ time: '2026-01-01T00:00:00.000Z', clientAddress: '::1', action: 'POST /admin/refresh-secrets', outcome: 'allowed', statusCode: 200, requestId: 'r-2' });

    expect(logs.lines().map((l) => l.event)).toEqual(['admin.audit']);
  });
});
