import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialClients } from '../../src/rotation/create-credential-clients.js';
import { redisPasswordRotation, type RedisDeps } from '../../src/rotation/redis-password.js';
import { aclPasswordHash } from '../../src/rotation/redis-secret.js';
import { applySet, createSecret, testSecret } from '../../src/rotation/rotation-steps.js';
import { runRotation } from '../../src/rotation/run-rotation.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { aclUserUrl, redisAdminCommand, redisLogsIn, setAclUser, startThrowawayRedis, type ThrowawayRedis } from '../service/support/redis-server.js';

/** The Redis password module against a redis-server of its own with ACL users. */
const ADMIN_PASSWORD = `redis-admin-${randomUUID()}`;
let server: ThrowawayRedis;
let n = 0;
const { redis } = createCredentialClients();

const lsm = useLocalAws();
beforeAll(async () => {
  server = await startThrowawayRedis({ password: ADMIN_PASSWORD });
}, 30_000);

afterAll(async () => {
  await server.stop();
});

/** An ACL user with one password, REDIS_URL naming it, and a master secret for the default (admin) user. */
async function scenario(options: { mayChangeAcl?: boolean } = {}) {
  const user = `app${++n}`;
  const password = `first-${randomUUID()}`;
  await setAclUser(server, ADMIN_PASSWORD, user, { add: [password] });
  if (options.mayChangeAcl === false) await redisAdminCommand(server, ADMIN_PASSWORD, 'ACL', 'SETUSER', user, '-@admin');
  const secretId = `redisrot/${n}/redis-url`;
  const masterId = `redisrot/${n}/redis-master`;
  await localClient(lsm).send(new CreateSecretCommand({ Name: secretId, SecretString: aclUserUrl(server, user, password) }));
  await localClient(lsm).send(new CreateSecretCommand({ Name: masterId, SecretString: JSON.stringify({ username: 'default', password: ADMIN_PASSWORD }) }));
  return { user, password, secretId, masterId };
}

const logsIn = (user: string, password: string) => redisLogsIn(aclUserUrl(server, user, password));

async function passwordHashes(user: string): Promise<string[]> {
  const reply = (await redisAdminCommand(server, ADMIN_PASSWORD, 'ACL', 'GETUSER', user)) as unknown[];
  return reply[reply.indexOf('passwords') + 1] as string[];
}

const passwordOf = async (secretId: string) => decodeURIComponent(new URL((await localClient(lsm).send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!).password);

describe('redis-password', () => {
  it('adds the new password beside the old one, so both log in until afterFinish removes the old one; live connections stay', async () => {
    const s = await scenario();
    const live = new Redis(aclUserUrl(server, s.user, s.password), { maxRetriesPerRequest: 0 });
    await live.ping();
    const deps: RedisDeps = { redis, masterSecretId: s.masterId };
    const ctx = { client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps };

    const outcome = await runRotation({ module: redisPasswordRotation, ...ctx, mode: 'graceful' });
    const next = await passwordOf(s.secretId);

    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await logsIn(s.user, next)).toBe(true);
    expect(await logsIn(s.user, s.password)).toBe(true);
    expect((await passwordHashes(s.user)).sort()).toEqual([aclPasswordHash(s.password), aclPasswordHash(next)].sort());

    await redisPasswordRotation.afterFinish!({ ...ctx, current: { versionId: ctx.versionId, value: aclUserUrl(server, s.user, next) }, previous: outcome.replaced });

    expect(await logsIn(s.user, s.password)).toBe(false);
    expect(await logsIn(s.user, next)).toBe(true);
    expect(await passwordHashes(s.user)).toEqual([aclPasswordHash(next)]);
    expect(await live.ping()).toBe('PONG');
    live.disconnect();
  });

  it('drops what an earlier rotation left at the next setSecret, so at most the current and the new password remain', async () => {
    const s = await scenario();
    const deps: RedisDeps = { redis, masterSecretId: s.masterId };

    await runRotation({ module: redisPasswordRotation, client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps, mode: 'graceful' });
    const second = await passwordOf(s.secretId);
    await runRotation({ module: redisPasswordRotation, client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps, mode: 'graceful' });
    const third = await passwordOf(s.secretId);

    expect(await logsIn(s.user, s.password)).toBe(false);
    expect(await logsIn(s.user, second)).toBe(true);
    expect(await logsIn(s.user, third)).toBe(true);
    expect(await passwordHashes(s.user)).toHaveLength(2);
  });

  it('is idempotent: setSecret and testSecret run twice leave the same two passwords', async () => {
    const s = await scenario();
    const ctx = { client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps: { redis, masterSecretId: s.masterId } };
    const { current, pending } = await createSecret(redisPasswordRotation, ctx);

    await applySet(redisPasswordRotation, { ...ctx, current, pending });
    await applySet(redisPasswordRotation, { ...ctx, current, pending });
    await testSecret(redisPasswordRotation, ctx);

    expect(await passwordHashes(s.user)).toHaveLength(2);
  });

  it('changes the ACL with the current credentials when no master secret is named, if the user may', async () => {
    const s = await scenario();

    await runRotation({ module: redisPasswordRotation, client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps: { redis }, mode: 'graceful' });

    expect(await logsIn(s.user, await passwordOf(s.secretId))).toBe(true);
  });

  it('fails setSecret naming NOPERM when the user may not change ACLs, with no value in the message', async () => {
    const s = await scenario({ mayChangeAcl: false });

    const err = await runRotation({ module: redisPasswordRotation, client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps: { redis }, mode: 'graceful' }).catch(
      (e: unknown) => e,
    );

    expect(err).toMatchObject({ code: 'ROTATION_SET_FAILED' });
    expect((err as Error).message).toContain('may not run ACL SETUSER (NOPERM)');
    expect((err as Error).message).not.toContain(s.password);
    expect(await logsIn(s.user, s.password)).toBe(true);
  });

  it('refuses a REDIS_URL without a password, naming the expected form and no value', async () => {
    const secretId = `redisrot/${++n}/redis-url`;
    await localClient(lsm).send(new CreateSecretCommand({ Name: secretId, SecretString: `redis://127.0.0.1:${server.port}/0` }));

    const err = await runRotation({ module: redisPasswordRotation, client: localClient(lsm), secretId, versionId: randomUUID(), deps: { redis }, mode: 'graceful' }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'ROTATION_BAD_VALUE' });
    expect((err as Error).message).toContain('redis://user:password@host:port/db');
  });
});

/**
 * Defect 1 of issue 15, checked for Redis: B starting while A was pending took A's AWSPENDING,
 * and each setSecret dropped the other's new password. Redis never lost its current password
 * (the ACL user keeps two), but the runs undid each other. Now B is refused before any effect.
 */
describe('redis-password, two overlapping rotations', () => {
  it('lets exactly one run: the second is refused before it touches the ACL, and the current password works', async () => {
    const s = await scenario();
    const deps: RedisDeps = { redis, masterSecretId: s.masterId };
    const a = randomUUID();
    const b = randomUUID();
    let bOutcome: unknown;

    const outcome = await runRotation({
      module: redisPasswordRotation,
      client: localClient(lsm),
      secretId: s.secretId,
      versionId: a,
      deps,
      mode: 'graceful',
      onPending: async () => {
        bOutcome = await runRotation({ module: redisPasswordRotation, client: localClient(lsm), secretId: s.secretId, versionId: b, deps, mode: 'graceful' }).catch((e: unknown) => e);
      },
    });

    expect(outcome).toMatchObject({ toVersionId: a });
    expect(bOutcome).toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: a });
    const next = await passwordOf(s.secretId);
    expect(await logsIn(s.user, next)).toBe(true);
    expect((await passwordHashes(s.user)).sort()).toEqual([aclPasswordHash(s.password), aclPasswordHash(next)].sort());
  });
});
