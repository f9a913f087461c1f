import { describe, expect, it } from 'vitest';
import { DeadlineExceededError } from '../../src/engine/deadline.js';
import { MissingSecretsError, SecretsError, SourceError } from '../../src/engine/errors.js';

describe('engine errors', () => {
  it('carry a stable code and name, and their cause', () => {
    const cause = new Error('underlying');
    const base = new SecretsError('SECRETS_CLOSED', 'closed', { cause });
    const source = new SourceError('ThrottlingException', true, { cause });
    const missing = new MissingSecretsError([
      { name: 'ADMIN_TOKEN', reason: 'missing' },
      { name: 'DATABASE_URL', reason: 'invalid: wrong scheme' },
    ]);

    expect([base.name, base.code, base.message, base.cause]).toEqual(['SecretsError', 'SECRETS_CLOSED', 'closed', cause]);
    expect([source.name, source.code, source.sourceCode, source.transient, source.message, source.cause]).toEqual([
      'SourceError',
      'SECRETS_SOURCE_FAILED',
      'ThrottlingException',
      true,
      'Secret source failed: ThrottlingException',
      cause,
    ]);
    expect([missing.name, missing.code, missing.message]).toEqual([
      'MissingSecretsError',
      'SECRETS_MISSING_REQUIRED',
      'Secrets initialization failed: missing or invalid required secrets: ADMIN_TOKEN (missing), DATABASE_URL (invalid: wrong scheme)',
    ]);
    expect(missing).toBeInstanceOf(SecretsError);
    expect(new DeadlineExceededError(5).name).toBe('DeadlineExceededError');
  });
});
