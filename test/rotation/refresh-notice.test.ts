import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialClients } from '../../src/rotation/create-credential-clients.js';
import { publishRefreshNotice, REFRESH_CHANNEL } from '../../src/rotation/refresh-notice.js';
import { refreshChannel } from '../../src/engine/index.js';
import { REFRESH_CHANNEL as SERVICE_CHANNEL } from '../../src/service/refresh-broadcast.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../service/support/redis-server.js';

let redis: ThrowawayRedis;

const lsm = useLocalAws();
beforeAll(async () => {
  redis = await startThrowawayRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('publishRefreshNotice', () => {
  it('uses the channel prefix the service listens under', () => {
    expect(REFRESH_CHANNEL).toBe(SERVICE_CHANNEL);
  });

  it("publishes one notice in the service's format with REDIS_URL's current credentials, and says how many listened", async () => {
    await localClient(lsm).send(new CreateSecretCommand({ Name: 'notice/1/redis-url', SecretString: redis.url }));
    const listener = new Redis(redis.url);
    const received: string[] = [];
    listener.on('message', (_c, m: string) => received.push(m));
    // The AWS-mode channel of the catalog's project and environment: what instances in AWS mode listen on.
    await listener.subscribe(refreshChannel(whatsappSaasCatalog(), 'aws'));

    const receivers = await publishRefreshNotice({
      client: localClient(lsm),
      redisSecretId: 'notice/1/redis-url',
      redis: createCredentialClients().redis,
      origin: 'secrets-cli',
      reason: 'rotated x',
      catalog: whatsappSaasCatalog(),
      name: 'DATABASE_URL',
      versionId: 'a1b2c3d4-0000-4000-8000-000000000001',
      now: () => Date.UTC(2026, 0, 2),
    });

    expect(receivers).toBe(1);
    await new Promise<void>((r) => (received.length > 0 ? r() : listener.once('message', () => r())));
    expect(JSON.parse(received[0]!)).toEqual({
      v: 1,
      origin: 'secrets-cli',
      reason: 'rotated x',
      names: ['DATABASE_URL'],
      versions: { DATABASE_URL: 'a1b2c3d4-0000-4000-8000-000000000001' },
      at: '2026-01-02T00:00:00.000Z',
    });
    listener.disconnect();
  });

  it('fails as misconfigured when REDIS_URL has no value', async () => {
    await expect(
      publishRefreshNotice({ client: localClient(lsm), redisSecretId: 'notice/none/redis-url', redis: createCredentialClients().redis, origin: 'o', reason: 'r', catalog: whatsappSaasCatalog(), name: 'DATABASE_URL', versionId: 'v1', now: Date.now }),
    ).rejects.toMatchObject({ code: 'ROTATION_MISCONFIGURED' });
  });
});
