import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialClients } from '../../src/rotation/create-credential-clients.js';
import { databasePasswordRotation, type DatabaseDeps } from '../../src/rotation/database-password.js';
import { RotationError } from '../../src/rotation/errors.js';
import { applySet, createSecret, testSecret } from '../../src/rotation/rotation-steps.js';
import { runRotation } from '../../src/rotation/run-rotation.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { adminQuery, createLoginRole, createPostgresCluster, postgresLogsIn, type PostgresCluster } from '../service/support/postgres.js';

/**
 * The database password module against a PostgreSQL 15 of its own with scram-sha-256
 * authentication (as on RDS), through the real SDK on the local Secrets Manager endpoint.
 */
let cluster: PostgresCluster;
let n = 0;
const { sql } = createCredentialClients();
/** Every password a test planted or read: none may appear in an error message. */
const seen = new Set<string>();

const lsm = useLocalAws();
beforeAll(async () => {
  cluster = await createPostgresCluster({ auth: 'scram-sha-256' });
  await cluster.start();
}, 60_000);

afterAll(async () => {
  await cluster.destroy();
});

interface Scenario {
  readonly role: string;
  readonly secretId: string;
  readonly masterId: string;
  url(user: string, password: string): string;
  json(user: string, password: string, extra?: Record<string, unknown>): string;
}

/** A login role owning a database of its name, a table it owns, and the master secret (the cluster's superuser). */
async function scenario(): Promise<Scenario> {
  const role = `app${++n}_${process.pid}`;
  const password = `initial-${randomUUID()}`;
  seen.add(password);
  await createLoginRole(cluster.serverUrl, role, password);
  const s: Scenario = {
    role,
    secretId: `dbrot/${n}/database-url`,
    masterId: `dbrot/${n}/database-master`,
    url: (user, pw) => `postgresql://${user}:${pw}@127.0.0.1:${cluster.port}/${role}?application_name=dbrot`,
    json: (user, pw, extra = {}) => JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: cluster.port, username: user, password: pw, dbname: role, ...extra }),
  };
  await withLogin(s.url(role, password), (c) => c.query('CREATE TABLE notes (id serial PRIMARY KEY, body text)'));
  seen.add(cluster.superuserPassword!);
  await localClient(lsm).send(new CreateSecretCommand({ Name: s.masterId, SecretString: JSON.stringify({ username: 'postgres', password: cluster.superuserPassword }) }));
  return s;
}

async function withLogin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const logsIn = postgresLogsIn;

async function current(secretId: string): Promise<string> {
  const value = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
  seen.add(passwordOf(value));
  return value;
}

function passwordOf(value: string): string {
  return value.startsWith('{') ? (JSON.parse(value) as { password: string }).password : decodeURIComponent(new URL(value).password);
}

async function rotate(secretId: string, deps: DatabaseDeps) {
  return runRotation({ module: databasePasswordRotation, client: localClient(lsm), secretId, versionId: randomUUID(), deps, mode: 'graceful' });
}

function expectNoPassword(err: unknown): void {
  const text = `${(err as Error).message} ${JSON.stringify(err)}`;
  for (const v of seen) expect(text).not.toContain(v);
}

describe('database-password, single-user', () => {
  it('changes the role password as a SCRAM verifier and stores the new URL in the same form; open sessions keep working', async () => {
    const s = await scenario();
    const initial = `pw-${randomUUID()}`;
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD '${initial}'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, initial) }));
    const open = new pg.Client({ connectionString: s.url(s.role, initial) });
    await open.connect();

    await rotate(s.secretId, { strategy: 'single-user', sql });

    const now = await current(s.secretId);
    const parsed = new URL(now);
    expect(`${parsed.hostname}:${parsed.port}${parsed.pathname}${parsed.search}`).toBe(`127.0.0.1:${cluster.port}/${s.role}?application_name=dbrot`);
    expect(decodeURIComponent(parsed.username)).toBe(s.role);
    expect(passwordOf(now)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await logsIn(now)).toBe(true);
    expect(await logsIn(s.url(s.role, initial))).toBe(false);
    expect((await open.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await open.end();
    let stored = '';
    await withLogin(cluster.serverUrl + '/postgres', async (c) => {
      stored = (await c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [s.role])).rows[0].rolpassword as string;
    });
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  it('keeps every other field of the RDS JSON form, in order', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'json-pw-1'`);
    const extra = { dbClusterIdentifier: 'prod-cluster', masterarn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${s.masterId}` };
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.json(s.role, 'json-pw-1', extra) }));

    await rotate(s.secretId, { strategy: 'single-user', sql });

    const now = JSON.parse(await current(s.secretId)) as Record<string, unknown>;
    expect(Object.keys(now)).toEqual(['engine', 'host', 'port', 'username', 'password', 'dbname', 'dbClusterIdentifier', 'masterarn']);
    expect(now).toMatchObject({ engine: 'postgres', host: '127.0.0.1', port: cluster.port, username: s.role, dbname: s.role, ...extra });
    expect(now.password).not.toBe('json-pw-1');
    expect(await logsIn(s.url(s.role, now.password as string))).toBe(true);
  });

  it('runs setSecret again without changing anything once the new password logs in, and resumes after a stop', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'resume-pw-1'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'resume-pw-1') }));
    const ctx = { client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps: { strategy: 'single-user' as const, sql } };
    const { current: cur, pending } = await createSecret(databasePasswordRotation, ctx);

    await applySet(databasePasswordRotation, { ...ctx, current: cur, pending });
    // The old password is refused now; a second setSecret must not need it.
    await applySet(databasePasswordRotation, { ...ctx, current: cur, pending });
    await testSecret(databasePasswordRotation, ctx);
    const outcome = await runRotation({ module: databasePasswordRotation, ...ctx, mode: 'graceful' });

    expect(outcome).toMatchObject({ created: false, alreadyCurrent: false, fromVersionId: cur.versionId, toVersionId: ctx.versionId });
    expect(await current(s.secretId)).toBe(pending.value);
  });

  it('falls back to the master when neither the current nor the new password logs in', async () => {
    const s = await scenario();
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'lost-password-1') }));

    const versionId = randomUUID();
    const run = (deps: DatabaseDeps) => runRotation({ module: databasePasswordRotation, client: localClient(lsm), secretId: s.secretId, versionId, deps, mode: 'graceful' });
    await expect(run({ strategy: 'single-user', sql })).rejects.toMatchObject({ code: 'ROTATION_SET_FAILED' });
    // A new rotation would be refused while this one holds the claim: it is resumed, with the master.
    await expect(rotate(s.secretId, { strategy: 'single-user', sql, masterSecretId: s.masterId })).rejects.toMatchObject({ code: 'ROTATION_IN_PROGRESS' });
    await run({ strategy: 'single-user', sql, masterSecretId: s.masterId });

    expect(await logsIn(await current(s.secretId))).toBe(true);
  });
});

describe('database-password, alternating-users', () => {
  it('creates the clone role on first use, acting as the current role, and leaves the current role untouched', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'alt-pw-1'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'alt-pw-1') }));

    await rotate(s.secretId, { strategy: 'alternating-users', sql, masterSecretId: s.masterId });

    const now = await current(s.secretId);
    expect(decodeURIComponent(new URL(now).username)).toBe(`${s.role}_clone`);
    expect(await logsIn(s.url(s.role, 'alt-pw-1'))).toBe(true);
    const seenAs = await withLogin(now, async (c) => {
      await c.query("INSERT INTO notes (body) VALUES ('from the clone')");
      await c.query('CREATE TABLE made_by_clone (id int)');
      return (await c.query("SELECT session_user AS login, current_user AS acting, (SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_clone') AS owner")).rows[0];
    });
    expect(seenAs).toEqual({ login: `${s.role}_clone`, acting: s.role, owner: s.role });
    // What the clone made, the original role uses, and the other way round: the same grants.
    expect(await withLogin(s.url(s.role, 'alt-pw-1'), async (c) => (await c.query('SELECT count(*)::int AS n FROM made_by_clone')).rows[0].n)).toBe(0);
  });

  it('flips back to the original role with a new password on the next rotation, keeping the clone valid', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'alt-pw-2'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.json(s.role, 'alt-pw-2') }));
    const deps = { strategy: 'alternating-users' as const, sql, masterSecretId: s.masterId };

    await rotate(s.secretId, deps);
    const clone = await current(s.secretId);
    await rotate(s.secretId, deps);
    const back = JSON.parse(await current(s.secretId)) as { username: string; password: string };

    expect(back.username).toBe(s.role);
    expect(back.password).not.toBe('alt-pw-2');
    expect(await logsIn(s.url(s.role, back.password))).toBe(true);
    expect(await logsIn(s.url(s.role, 'alt-pw-2'))).toBe(false);
    const cloneValue = JSON.parse(clone) as { username: string; password: string };
    expect(await logsIn(s.url(cloneValue.username, cloneValue.password))).toBe(true);
  });

  it('takes the master secret from the masterarn field, and only its user and password', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'alt-pw-3'`);
    // A master secret naming another server: a rotation must never be pointed elsewhere by it.
    await localClient(lsm).send(
      new CreateSecretCommand({ Name: `${s.masterId}-url`, SecretString: `postgresql://postgres:${cluster.superuserPassword}@127.0.0.1:1/elsewhere` }),
    );
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.json(s.role, 'alt-pw-3', { masterarn: `${s.masterId}-url` }) }));

    await rotate(s.secretId, { strategy: 'alternating-users', sql });

    const now = JSON.parse(await current(s.secretId)) as { username: string; password: string };
    expect(now.username).toBe(`${s.role}_clone`);
    expect(await logsIn(s.url(now.username, now.password))).toBe(true);
  });

  it('refuses to start without a master secret, naming the setting and no value', async () => {
    const s = await scenario();
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'alt-pw-4') }));

    const err = await rotate(s.secretId, { strategy: 'alternating-users', sql }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RotationError);
    expect(err).toMatchObject({ code: 'ROTATION_MISCONFIGURED' });
    expect((err as Error).message).toContain('--master-secret');
    expectNoPassword(err);
  });

  it('fails setSecret with the SQLSTATE and no value when the master cannot log in', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'alt-pw-5'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: `${s.masterId}-wrong`, SecretString: JSON.stringify({ username: 'postgres', password: 'not-the-master-pw' }) }));
    seen.add('not-the-master-pw');
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'alt-pw-5') }));

    const err = await rotate(s.secretId, { strategy: 'alternating-users', sql, masterSecretId: `${s.masterId}-wrong` }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'ROTATION_SET_FAILED' });
    expect((err as Error).message).toContain('28P01');
    expectNoPassword(err);
  });
});

describe("database-password's configuration test (RotateImmediately false)", () => {
  it('proves the current value and, for alternating-users, the master log in', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'conf-pw-1'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'conf-pw-1') }));
    const ctx = (deps: DatabaseDeps) => ({ client: localClient(lsm), secretId: s.secretId, versionId: randomUUID(), deps });

    await testSecret(databasePasswordRotation, ctx({ strategy: 'alternating-users', sql, masterSecretId: s.masterId }));
    await expect(testSecret(databasePasswordRotation, ctx({ strategy: 'alternating-users', sql }))).rejects.toMatchObject({ code: 'ROTATION_MISCONFIGURED' });
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'conf-pw-2'`);
    await expect(testSecret(databasePasswordRotation, ctx({ strategy: 'single-user', sql }))).rejects.toMatchObject({ code: 'ROTATION_TEST_FAILED' });
  });
});

/**
 * Defect 1 of issue 15: rotation B starts while A is pending. B used to put its value under
 * AWSPENDING (silently taking the label from A), A then ran ALTER ROLE with the value it held in
 * memory, and the database ended on a password no label holds. Now B's claim is refused before it
 * puts anything, and A finishes.
 */
describe('database-password, two overlapping rotations', () => {
  it('lets exactly one run: the second is refused before any effect, naming the first, and AWSCURRENT logs in', async () => {
    const s = await scenario();
    await adminQuery(cluster.serverUrl, `ALTER ROLE ${s.role} PASSWORD 'overlap-pw-1'`);
    await localClient(lsm).send(new CreateSecretCommand({ Name: s.secretId, SecretString: s.url(s.role, 'overlap-pw-1') }));
    const deps: DatabaseDeps = { strategy: 'single-user', sql };
    const a = randomUUID();
    const b = randomUUID();
    let bRun: Promise<unknown> = Promise.resolve();
    let bReachedPending!: () => void;
    const bCreated = new Promise<void>((resolve) => (bReachedPending = resolve));
    let aSet!: () => void;
    const aSetDone = new Promise<void>((resolve) => (aSet = resolve));

    const aRun = runRotation({
      module: databasePasswordRotation,
      client: localClient(lsm),
      secretId: s.secretId,
      versionId: a,
      deps,
      mode: 'graceful',
      // B starts while A is pending; A's setSecret runs once B has created its version (or was refused).
      onPending: async () => {
        bRun = runRotation({
          module: databasePasswordRotation,
          client: localClient(lsm),
          secretId: s.secretId,
          versionId: b,
          deps,
          mode: 'graceful',
          onPending: async () => {
            bReachedPending();
            await aSetDone;
          },
        }).catch((e: unknown) => e);
        await Promise.race([bCreated, bRun]);
      },
      onStep: (step) => {
        if (step === 'setSecret') aSet();
      },
    }).catch((e: unknown) => e);
    const [aOutcome, bOutcome] = [await aRun, await (aSetDone.then(() => bRun))];

    expect(aOutcome).toMatchObject({ toVersionId: a, alreadyCurrent: false });
    expect(bOutcome).toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: a });
    expectNoPassword(bOutcome);
    const now = await current(s.secretId);
    expect(await logsIn(now)).toBe(true);
    const b$ = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: s.secretId, VersionId: b })).catch(() => undefined);
    expect(b$).toBeUndefined();
  });
});
