import pg from 'pg';
import type { PostgresConnection } from '../engine/index.js';
import { driverErrorCode, withSql, type SqlClient, type SqlClientFactory } from './credential-clients.js';
import { RotationError } from './errors.js';
import { asPrivileged, readMasterLogin } from './master-secret.js';
import { newPassword } from './new-password.js';
import { masterArnOf, otherUserOf, readPostgresSecret, scramVerifier, withCredentials } from './postgres-secret.js';
import type { CreateContext, PendingContext, RotationModule } from './rotation-module.js';

export const DATABASE_STRATEGIES = ['single-user', 'alternating-users'] as const;
export type DatabaseStrategy = (typeof DATABASE_STRATEGIES)[number];

export interface DatabaseDeps {
  /** What createSecret makes: the same role with a new password, or the other role of the pair. */
  readonly strategy: DatabaseStrategy;
  /** Opens PostgreSQL sessions (the composition root's, bounded in time). */
  readonly sql: SqlClientFactory;
  /**
   * The master secret (`--master-secret ID`, or the function's DATABASE_MASTER_SECRET_ID): a URL
   * or JSON with a superuser or CREATEROLE role. Else the `masterarn` field of the secret's JSON,
   * as AWS's alternating-users secrets carry it. Needed by alternating-users only.
   */
  readonly masterSecretId?: string;
}

const AUTH_FAILURES = new Set(['28P01', '28000']);

/**
 * DATABASE_URL's password, in the form the secret already has (a URL or the RDS JSON), by one
 * of AWS's two strategies (aws-samples' PostgreSQL single-user and multi-user rotation templates):
 *
 * - single-user: createSecret keeps the user and makes a new password; setSecret has the role
 *   change its own password (`ALTER ROLE ... PASSWORD`, logged in with the current one; the
 *   master's if that fails and one is named). Sessions already open stay open (PostgreSQL checks
 *   a password at login only); from setSecret until instances have the new value, new logins with
 *   the old password are refused, and the service refreshes DATABASE_URL and retries them.
 * - alternating-users: createSecret moves the secret to the other role of the pair (`app` <->
 *   `app_clone`) with a new password; setSecret, logged in as the master, creates that role on
 *   first use as a member of the current one whose sessions act as it (`SET ROLE` by default:
 *   the same grants, and objects it creates are owned by the same role), or else sets its
 *   password. The current role is not touched: nothing opened or opening with it is refused
 *   until the rotation after next changes its password.
 *
 * The password travels as its SCRAM-SHA-256 verifier, never in clear. setSecret and testSecret
 * follow the pending value itself (same user: single-user; the other: alternating), so a run
 * resumed under another --strategy finishes what was started.
 */
export const databasePasswordRotation: RotationModule<DatabaseDeps> = {
  kind: 'database-password',
  secretName: 'DATABASE_URL',
  handover: false,
  async newValue({ secretId, current, deps }) {
    const connection = readPostgresSecret(current.value, secretId);
    const user = deps.strategy === 'alternating-users' ? otherUserOf(connection.user, secretId) : connection.user;
    if (deps.strategy === 'alternating-users') masterSecretIdOf(deps, current.value, secretId);
    return withCredentials(current.value, secretId, user, newPassword());
  },
  async setSecret(ctx) {
    const { secretId, current, pending, deps } = ctx;
    const now = readPostgresSecret(current.value, secretId);
    const next = readPostgresSecret(pending.value, secretId);
    checkSameServer(now, next, secretId);
    // Set already (a retried step, a resumed run): nothing to do.
    if (await logsIn(deps.sql, next.url, 'setSecret', secretId)) return;
    const verifier = scramVerifier(requirePassword(next, secretId));
    if (next.user === now.user) {
      const changed = await tryAs(deps.sql, now.url, 'setSecret', secretId, (c) => setOwnPassword(c, next.user, verifier));
      if (changed) return;
      const master = await masterUrl(ctx, now, false);
      if (master === undefined) {
        throw new RotationError('ROTATION_SET_FAILED', `setSecret for version ${pending.versionId} of ${secretId}: neither the current nor the new password logs in, and no master secret is named`);
      }
      await asMaster(deps.sql, master, secretId, (c) => c.query(`ALTER ROLE ${pg.escapeIdentifier(next.user)} PASSWORD ${pg.escapeLiteral(verifier)}`));
      return;
    }
    const master = await masterUrl(ctx, now, true);
    await asMaster(deps.sql, master!, secretId, (c) => setAlternateRole(c, next.user, now.user, verifier));
  },
  async testSecret({ secretId, pending, deps }) {
    const next = readPostgresSecret(pending.value, secretId);
    await withSql(deps.sql, next.url, async (c) => {
      const row = (await c.query('SELECT session_user AS login')).rows[0];
      if (row?.login !== next.user) throw new RotationError('ROTATION_TEST_FAILED', `testSecret for version ${pending.versionId} of ${secretId} logged in as another role`);
    }).catch((err: unknown) => {
      if (err instanceof RotationError) throw err;
      throw new RotationError('ROTATION_TEST_FAILED', `testSecret: version ${pending.versionId} of ${secretId} does not log in (${driverErrorCode(err)})`, { cause: err });
    });
  },
  async logsIn(deps, secretId, value) {
    return logsIn(deps.sql, readPostgresSecret(value, secretId).url, 'testSecret', secretId);
  },
  async testConfiguration(ctx) {
    const { secretId, current, deps } = ctx;
    const now = readPostgresSecret(current.value, secretId);
    if (!(await logsIn(deps.sql, now.url, 'testSecret', secretId))) {
      throw new RotationError('ROTATION_TEST_FAILED', `testSecret: the current value of ${secretId} does not log in`);
    }
    if (deps.strategy === 'alternating-users') await asMaster(deps.sql, (await masterUrl(ctx, now, true))!, secretId, (c) => c.query('SELECT 1'));
  },
};

function requirePassword(c: PostgresConnection, secretId: string): string {
  if (c.password === undefined) throw new RotationError('ROTATION_BAD_VALUE', `The pending value of ${secretId} has no password`);
  return c.password;
}

/** The new value must point where the current one does: a rotation never moves the service. */
function checkSameServer(now: PostgresConnection, next: PostgresConnection, secretId: string): void {
  if (now.host !== next.host || now.port !== next.port || now.database !== next.database) {
    throw new RotationError('ROTATION_BAD_VALUE', `The pending value of ${secretId} names another server or database than the current one`);
  }
}

function masterSecretIdOf(deps: DatabaseDeps, currentValue: string, secretId: string): string {
  const id = deps.masterSecretId ?? masterArnOf(currentValue);
  if (id === undefined) {
    throw new RotationError(
      'ROTATION_MISCONFIGURED',
      `alternating-users needs the master secret of ${secretId}'s database: --master-secret ID (rotation function: DATABASE_MASTER_SECRET_ID), or masterarn in the secret's JSON`,
    );
  }
  return id;
}

/**
 * The master's login at the current value's server and database: only its user and password are
 * taken from the master secret (an RDS-managed master secret holds nothing else), so a master
 * secret can never point a rotation at another server. Undefined when none is named and `required` is false.
 */
async function masterUrl(ctx: CreateContext<DatabaseDeps> | PendingContext<DatabaseDeps>, now: PostgresConnection, required: boolean): Promise<string | undefined> {
  const { client, secretId, current, deps } = ctx;
  if (!required && deps.masterSecretId === undefined && masterArnOf(current.value) === undefined) return undefined;
  const id = masterSecretIdOf(deps, current.value, secretId);
  const { user, password } = await readMasterLogin(client, id, (raw, masterId) => readPostgresSecret(raw, masterId));
  return withCredentials(now.url, secretId, user, password);
}

/** Whether a login works: false when refused for its credentials; any other failure throws. */
async function logsIn(sql: SqlClientFactory, url: string, step: string, secretId: string): Promise<boolean> {
  return tryAs(sql, url, step, secretId, async () => {});
}

/** Runs `fn` logged in with `url`; false when the login is refused for its credentials. */
async function tryAs(sql: SqlClientFactory, url: string, step: string, secretId: string, fn: (c: SqlClient) => Promise<unknown>): Promise<boolean> {
  try {
    await withSql(sql, url, fn);
    return true;
  } catch (err) {
    const code = driverErrorCode(err);
    if (AUTH_FAILURES.has(code)) return false;
    throw new RotationError(step === 'setSecret' ? 'ROTATION_SET_FAILED' : 'ROTATION_TEST_FAILED', `${step} for ${secretId} failed (${code})`, { cause: err });
  }
}

async function asMaster(sql: SqlClientFactory, url: string, secretId: string, fn: (c: SqlClient) => Promise<unknown>): Promise<void> {
  await asPrivileged(() => withSql(sql, url, fn), {
    code: 'ROTATION_SET_FAILED',
    what: `setSecret for ${secretId} as the master role`,
    why: (code) => (AUTH_FAILURES.has(code) ? 'the master credentials do not log in' : code === '42501' ? 'the master role lacks CREATEROLE' : 'failed'),
  });
}

/** A role changes its own password: as itself, not as the role its sessions may act as. */
async function setOwnPassword(c: SqlClient, user: string, verifier: string): Promise<void> {
  await c.query('SET ROLE NONE');
  await c.query(`ALTER ROLE ${pg.escapeIdentifier(user)} PASSWORD ${pg.escapeLiteral(verifier)}`);
}

/**
 * The other role of the pair, logged in as the master: created on first use as a member of the
 * current role whose sessions act as it, else given the new password. One transaction: a role
 * half made is never left behind.
 */
async function setAlternateRole(c: SqlClient, user: string, actsAs: string, verifier: string): Promise<void> {
  const role = pg.escapeIdentifier(user);
  await c.query('BEGIN');
  try {
    const exists = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).rows.length > 0;
    if (exists) {
      await c.query(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${pg.escapeLiteral(verifier)}`);
    } else {
      await c.query(`CREATE ROLE ${role} WITH LOGIN PASSWORD ${pg.escapeLiteral(verifier)}`);
      await c.query(`GRANT ${pg.escapeIdentifier(actsAs)} TO ${role}`);
      await c.query(`ALTER ROLE ${role} SET role TO ${pg.escapeLiteral(actsAs)}`);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
