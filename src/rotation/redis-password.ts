import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { driverErrorCode, withRedis, type RedisClient, type RedisClientFactory } from './credential-clients.js';
import { newPassword } from './new-password.js';
import { RotationError } from './errors.js';
import { asPrivileged, readMasterLogin } from './master-secret.js';
import { aclPasswordHash, passwordHashesOf, readRedisSecret, withRedisCredentials } from './redis-secret.js';
import type { RotationModule, StepContext } from './rotation-module.js';

export interface RedisDeps {
  /** Opens Redis connections (the composition root's, bounded in time). */
  readonly redis: RedisClientFactory;
  /**
   * A secret with the login of a Redis user allowed `ACL SETUSER` (`--master-secret ID`, or the
   * function's REDIS_MASTER_SECRET_ID): a redis URL or JSON with username and password. Only
   * its user and password are used, at the current value's server. Without it, the current
   * credentials must be allowed `ACL SETUSER` themselves.
   */
  readonly masterSecretId?: string;
}

/**
 * REDIS_URL's password: one ACL user with two passwords for the length of a switch, so that no
 * live credential is refused at any moment.
 *
 * - createSecret: the same URL with a new password.
 * - setSecret: `ACL SETUSER <user> #<sha256 of new>` (the hashed form of `>new`: the password
 *   itself never crosses in an admin command) adds it, and drops any password other than the
 *   current and the new one (`!<hash>`): what an earlier rotation left, so at most two remain.
 * - testSecret: logs in with the new password.
 * - afterFinish (the CLI, once every instance named by --notify has refreshed): `!<sha256 of
 *   old>`, the hashed form of `<old`. A scheduled rotation has no such moment: the old password
 *   stays valid until the next rotation's setSecret drops it, as AWS's alternating-users
 *   template leaves the previous user valid.
 *
 * Each change is persisted where the server allows (`ACL SAVE` with an ACL file, else `CONFIG
 * REWRITE`); a server with neither (one started with arguments only) keeps it in memory.
 */
export const redisPasswordRotation: RotationModule<RedisDeps> = {
  kind: 'redis-password',
  secretName: 'REDIS_URL',
  handover: false,
  async newValue({ secretId, current }) {
    readRedisSecret(current.value, secretId);
    return withRedisCredentials(current.value, newPassword());
  },
  async setSecret(ctx) {
    const { secretId, current, pending } = ctx;
    const now = readRedisSecret(current.value, secretId);
    const next = readRedisSecret(pending.value, secretId);
    if (next.user !== now.user || next.host !== now.host || next.port !== now.port) {
      throw new RotationError('ROTATION_BAD_VALUE', `The pending value of ${secretId} names another user or server than the current one`);
    }
    const keep = new Set([aclPasswordHash(now.password), aclPasswordHash(next.password)]);
    await asAdmin(ctx, 'setSecret', async (admin) => {
      const hashes = passwordHashesOf(await admin.call('ACL', 'GETUSER', now.user));
      if (hashes === undefined) throw new RotationError('ROTATION_SET_FAILED', `setSecret for ${secretId}: Redis has no ACL user ${now.user}`);
      const drop = hashes.filter((h) => !keep.has(h)).map((h) => `!${h}`);
      await admin.call('ACL', 'SETUSER', now.user, `#${aclPasswordHash(next.password)}`, ...drop);
      await persistAcl(admin);
    });
  },
  async testSecret({ secretId, pending, deps }) {
    const next = readRedisSecret(pending.value, secretId);
    try {
      await withRedis(deps.redis, pending.value, (c) => c.call('PING'));
    } catch (err) {
      throw new RotationError('ROTATION_TEST_FAILED', `testSecret: version ${pending.versionId} of ${secretId} does not log in as ${next.user} (${driverErrorCode(err)})`, { cause: err });
    }
  },
  async logsIn(deps, secretId, value) {
    readRedisSecret(value, secretId);
    try {
      await withRedis(deps.redis, value, (c) => c.call('PING'));
      return true;
    } catch (err) {
      const code = driverErrorCode(err);
      if (code === 'WRONGPASS' || code === 'NOAUTH') return false;
      throw new RotationError('ROTATION_TEST_FAILED', `Logging in to ${secretId}'s server failed (${code})`, { cause: err });
    }
  },
  async testConfiguration(ctx) {
    const { secretId, current, deps } = ctx;
    readRedisSecret(current.value, secretId);
    try {
      await withRedis(deps.redis, current.value, (c) => c.call('PING'));
    } catch (err) {
      throw new RotationError('ROTATION_TEST_FAILED', `testSecret: the current value of ${secretId} does not log in (${driverErrorCode(err)})`, { cause: err });
    }
    await asAdmin(ctx, 'testSecret', (admin) => admin.call('ACL', 'GETUSER', readRedisSecret(current.value, secretId).user));
  },
  async afterFinish(ctx) {
    const { secretId, current, previous } = ctx;
    if (previous === undefined) return;
    const now = readRedisSecret(current.value, secretId);
    const old = readRedisSecret(previous.value, secretId);
    if (old.user !== now.user || old.password === now.password) return;
    await asAdmin({ ...ctx, current }, 'afterFinish', async (admin) => {
      await admin.call('ACL', 'SETUSER', now.user, `!${aclPasswordHash(old.password)}`);
      await persistAcl(admin);
    });
  },
};

type AdminContext = StepContext<RedisDeps> & { readonly current: { readonly value: string } };

/** Runs `fn` logged in as the master (or with the current credentials), at the current value's server. */
async function asAdmin(ctx: AdminContext, step: string, fn: (admin: RedisClient) => Promise<unknown>): Promise<void> {
  const { client, secretId, current, deps } = ctx;
  const url = deps.masterSecretId === undefined ? current.value : await masterUrl(client, deps.masterSecretId, current.value);
  const who = deps.masterSecretId === undefined ? 'the current credentials' : `the master secret ${deps.masterSecretId}`;
  await asPrivileged(() => withRedis(deps.redis, url, fn), {
    code: step === 'testSecret' ? 'ROTATION_TEST_FAILED' : 'ROTATION_SET_FAILED',
    what: `${step} for ${secretId}`,
    why: (code) => (code === 'NOPERM' ? `${who} may not run ACL SETUSER` : code === 'WRONGPASS' ? `${who} do not log in` : 'failed'),
  });
}

async function masterUrl(client: SecretsManagerClient, id: string, currentValue: string): Promise<string> {
  const { user, password } = await readMasterLogin(client, id, (raw, masterId) => readRedisSecret(raw, masterId));
  return withRedisCredentials(currentValue, password, user);
}

/** Persists the ACL where the server keeps it; a server with no file to write keeps it in memory. */
async function persistAcl(admin: RedisClient): Promise<void> {
  try {
    await admin.call('ACL', 'SAVE');
    return;
  } catch {
    // No ACL file: users live in the configuration file, if there is one.
  }
  await admin.call('CONFIG', 'REWRITE').catch(() => {});
}
