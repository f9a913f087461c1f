import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAdminToken } from '../../../src/cli/commands/verify.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../../support/local-aws.js';

const SECRET_ID = 'verify-test/mvp/admin-token';
let lsm: LocalSecretsManager;

beforeAll(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
  await localClient(lsm).send(new CreateSecretCommand({ Name: SECRET_ID, SecretString: 'canary-verify-admin-0123456789abcdef' }));
});

afterAll(async () => {
  await lsm.close();
});

describe('verifyAdminToken --url', () => {
  it('explains a 429: this client is locked out, for how long, and how to clear it', async () => {
    const lockedOut: typeof fetch = async () => new Response('{}', { status: 429, headers: { 'retry-after': '540' } });

    const checks = await verifyAdminToken(localClient(lsm), SECRET_ID, 'http://127.0.0.1:1', lockedOut);

    const probe = checks.find((c) => c.check === 'service accepts current token')!;
    expect(probe.ok).toBe(false);
    expect(probe.detail).toBe(
      'HTTP 429: this client is locked out after too many failed admin tokens; retry in 540 s, ' +
        'or clear it with redis-cli DEL admin-auth-failures:<your address> (README: "Admin lockout")',
    );
    expect(JSON.stringify(checks)).not.toContain('canary-verify-admin');
  });
});
