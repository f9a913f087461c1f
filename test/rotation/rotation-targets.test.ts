import { describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import type { CredentialClients } from '../../src/rotation/credential-clients.js';
import { databaseStrategyOf, ROTATION_TARGETS, scheduleDaysOf } from '../../src/rotation/rotation-targets.js';
import { localClient } from '../support/local-aws.js';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';

const target = (kind: string) => ROTATION_TARGETS.find((t) => t.module.kind === kind)!;
const clients: CredentialClients = { sql: () => ({}) as never, redis: () => ({}) as never };

describe('ROTATION_TARGETS', () => {
  it('rotates the database and Redis passwords every 30 days, the admin token every 90, and the Meta verify token by hand', () => {
    const catalog = whatsappSaasCatalog();
    expect(ROTATION_TARGETS.map((t) => [t.module.secretName, scheduleDaysOf(t, catalog)])).toEqual([
      ['ADMIN_TOKEN', 90],
      ['META_VERIFY_TOKEN', undefined],
      ['DATABASE_URL', 30],
      ['REDIS_URL', 30],
    ]);
    expect(ROTATION_TARGETS.filter((t) => t.announce === true).map((t) => t.module.kind)).toEqual(['database-password', 'redis-password']);
  });

  it('builds the database module from the function environment: strategy and master secret', async () => {
    const lsm = await startLocalSecretsManager({ port: 0 });
    try {
      const built = await target('database-password').lambdaDeps({ DATABASE_ROTATION_STRATEGY: 'alternating-users', DATABASE_MASTER_SECRET_ID: ' master-id ' }, localClient(lsm), clients);
      expect(built.deps).toEqual({ strategy: 'alternating-users', sql: clients.sql, masterSecretId: 'master-id' });
      const redis = await target('redis-password').lambdaDeps({}, localClient(lsm), clients);
      expect(redis.deps).toEqual({ redis: clients.redis });
    } finally {
      await lsm.close();
    }
  });
});

describe('databaseStrategyOf', () => {
  it('is single-user unless DATABASE_ROTATION_STRATEGY says otherwise, and refuses anything else naming the setting only', () => {
    expect(databaseStrategyOf({})).toBe('single-user');
    expect(databaseStrategyOf({ DATABASE_ROTATION_STRATEGY: 'alternating-users' })).toBe('alternating-users');
    expect(() => databaseStrategyOf({ DATABASE_ROTATION_STRATEGY: 'canary-strategy-9' })).toThrow('DATABASE_ROTATION_STRATEGY must be single-user or alternating-users');
    try {
      databaseStrategyOf({ DATABASE_ROTATION_STRATEGY: 'canary-strategy-9' });
    } catch (err) {
      expect(err).toMatchObject({ code: 'ROTATION_MISCONFIGURED' });
      expect((err as Error).message).not.toContain('canary-strategy-9');
    }
  });
});
