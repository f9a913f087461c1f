import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { adminTokenRotation } from '../../src/rotation/admin-token.js';
import { metaVerifyTokenRotation } from '../../src/rotation/meta-verify-token.js';
import { tokenRotation, type TokenDeps } from '../../src/rotation/token-rotation.js';

const client = {} as SecretsManagerClient;
const ctx = (pending: string, deps: TokenDeps = {}) => ({
  client,
  secretId: 's',
  versionId: 'v2',
  deps,
  current: { versionId: 'v1', value: 'canary-token-current-J7' },
  pending: { versionId: 'v2', value: pending },
});

/** A service whose health report says it serves `versionId` of `name`; records the URLs it is asked. */
function service(name: string, versionId: string) {
  const asked: string[] = [];
  const fetchStub = (async (url: URL) => {
    asked.push(url.href);
    return new Response(JSON.stringify({ secrets: { [name]: { versionId } } }), { status: 200 });
  }) as unknown as typeof fetch;
  return { probe: { url: 'http://service.test', fetch: fetchStub, adminToken: async () => 'canary-token-admin-J8' }, asked };
}

describe('tokenRotation', () => {
  it('names its kind and secret, hands the token over, and makes a new 64-character URL-safe token each time', async () => {
    expect([adminTokenRotation.kind, adminTokenRotation.secretName, adminTokenRotation.handover]).toEqual(['admin-token', 'ADMIN_TOKEN', true]);
    expect([metaVerifyTokenRotation.kind, metaVerifyTokenRotation.secretName, metaVerifyTokenRotation.handover]).toEqual(['meta-verify-token', 'META_VERIFY_TOKEN', true]);
    const c = { client, secretId: 's', versionId: 'v2', deps: {}, current: { versionId: 'v1', value: 'x' } };

    const [a, b] = [await adminTokenRotation.newValue(c), await adminTokenRotation.newValue(c)];

    expect(a).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(b).not.toBe(a);
  });

  it('refuses a pending value of another shape, naming the length it expects and never the value', async () => {
    const short = tokenRotation({ kind: 'short-token', secretName: 'SHORT', bytes: 16 });

    await expect(adminTokenRotation.testSecret(ctx('canary+token/odd='))).rejects.toMatchObject({
      code: 'ROTATION_TEST_FAILED',
      message: 'Version v2 of s is not a URL-safe token of 64 characters',
    });
    await expect(short.testSecret(ctx('a'.repeat(64)))).rejects.toMatchObject({ message: 'Version v2 of s is not a URL-safe token of 22 characters' });
    await expect(short.testSecret(ctx('a'.repeat(22)))).resolves.toBeUndefined();
    expect(await short.newValue({ client, secretId: 's', versionId: 'v2', deps: {}, current: { versionId: 'v1', value: 'x' } })).toHaveLength(22);
  });

  it('given a service, checks that it serves the current version of this very secret', async () => {
    const ok = service('META_VERIFY_TOKEN', 'v1');
    const stale = service('META_VERIFY_TOKEN', 'v0');

    await expect(metaVerifyTokenRotation.testSecret(ctx('a'.repeat(64), { service: ok.probe }))).resolves.toBeUndefined();
    await expect(metaVerifyTokenRotation.testSecret(ctx('a'.repeat(64), { service: stale.probe }))).rejects.toMatchObject({ code: 'ROTATION_TEST_FAILED', message: expect.stringContaining('serves version v0 of META_VERIFY_TOKEN, not the current v1') });
    expect(ok.asked).toEqual(['http://service.test/admin/secrets/health']);
  });

});
