import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPolicies, rotationFunctionName, type PolicyDocument } from '../../src/cli/iam-policies.js';
import { run } from '../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAwsSource, createSecretsEngine } from '../../src/engine/index.js';
import { createCredentialClients } from '../../src/rotation/create-credential-clients.js';
import { handleRotationEvent } from '../../src/rotation/lambda-rotation.js';
import { captureLogger } from '../support/capture-logger.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { startStandInService } from '../rotation/support/stand-in-service.js';
import { createLoginRole, createPostgresCluster, type PostgresCluster } from '../service/support/postgres.js';
import { aclUserUrl, setAclUser, startThrowawayRedis, type ThrowawayRedis } from '../service/support/redis-server.js';
import { ACCOUNT, decide } from './iam-simulator.js';
import { cliDeps } from './support.js';

/**
 * Each committed policy against the calls its path really makes: every call (operation and
 * secret), recorded from the real SDK client as the code sends it to the local endpoint, is
 * allowed by the IAM simulator; the policy allows no Secrets Manager action its path never
 * calls; and the same calls on a neighbour secret are denied.
 */
const scope = { account: ACCOUNT, region: 'us-east-1', prefix: 'whatsapp-saas/mvp' };
const policies = buildPolicies(scope);
const catalog = whatsappSaasCatalog();
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${rotationFunctionName(scope)}`;


/** A secret's ARN as AWS makes it: the name, a dash, six characters. */
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbC123`;

/** One authorized call: the action and the secret name it is on ('*' for calls AWS authorizes on "*"). */
interface Call {
  readonly action: string;
  readonly secret: string;
}

/** Records every call a client sends, as IAM authorizes it. */
class CallLog {
  readonly calls: Call[] = [];

  record<C extends SecretsManagerClient>(client: C): C {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = (context.commandName ?? '').replace(/Command$/, '');
        const input = args.input as { SecretId?: string; SecretIdList?: string[]; Name?: string };
        if (op === 'BatchGetSecretValue') {
          this.calls.push({ action: op, secret: '*' });
          // Each secret in a batch is authorized as its own GetSecretValue.
          for (const id of input.SecretIdList ?? []) this.calls.push({ action: 'GetSecretValue', secret: nameOf(id) });
        } else {
          this.calls.push({ action: op, secret: nameOf(input.SecretId ?? input.Name ?? '*') });
        }
        return next(args);
      },
      { step: 'initialize', name: 'callLog' },
    );
    return client;
  }

  actions(): string[] {
    return [...new Set(this.calls.map((c) => c.action))].sort();
  }
}

/** A secret name from a name or a (local endpoint) ARN. */
function nameOf(id: string): string {
  return /^arn:aws:secretsmanager:[^:]+:\d+:secret:(.+)-[A-Za-z0-9]{6}$/.exec(id)?.[1] ?? id;
}

function allowedSecretsManagerActions(policy: PolicyDocument): string[] {
  const actions = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action as string[]);
  return [...new Set(actions.filter((a) => a.startsWith('secretsmanager:')).map((a) => a.slice('secretsmanager:'.length)))].sort();
}

async function expectAllowed(policy: PolicyDocument, log: CallLog): Promise<void> {
  const seen = new Set<string>();
  for (const { action, secret } of log.calls) {
    const key = `${action} ${secret}`;
    if (seen.has(key)) continue;
    seen.add(key);
    expect(await decide(policy, `secretsmanager:${action}`, secret === '*' ? '*' : secretArn(secret)), key).toBe('Allowed');
  }
}

/**
 * The same calls on a secret of another project and of another environment; for the policies
 * naming single secrets (`-??????`), also on one whose name only starts the same way. (The app's
 * and CI/CD's policies cover the whole prefix: a secret added to the catalog needs no new policy.)
 */
async function expectNeighboursDenied(policy: PolicyDocument, log: CallLog, scopeOf: 'prefix' | 'secrets'): Promise<void> {
  const seen = new Set<string>();
  for (const { action, secret } of log.calls) {
    if (secret === '*' || seen.has(`${action} ${secret}`)) continue;
    seen.add(`${action} ${secret}`);
    const rest = secret.split('/').slice(2).join('/');
    for (const neighbour of [`other-app/mvp/${rest}`, `whatsapp-saas/prod/${rest}`, ...(scopeOf === 'secrets' ? [`${secret}-backup`] : [])]) {
      expect(await decide(policy, `secretsmanager:${action}`, secretArn(neighbour)), `${action} ${neighbour}`).not.toBe('Allowed');
    }
  }
}

async function expectKms(policy: PolicyDocument, actions: readonly string[]): Promise<void> {
  const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
    const viaSecretsManager = await decide(policy, action, key, { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' });
    expect(viaSecretsManager, action).toBe(actions.includes(action) ? 'Allowed' : 'ImplicitlyDenied');
    expect(await decide(policy, action, key, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' }), action).toBe('ImplicitlyDenied');
    expect(await decide(policy, action, key), action).toBe('ImplicitlyDenied');
  }
}

/** Values of the minimum strength the catalog asks for. */
const ADMIN_TOKEN = 'planted-admin-token-0123456789abcdefghij';
const VERIFY_TOKEN = 'planted-verify-token-0123456789';
const VALUES = (db: string, redis: string) =>
  `META_APP_SECRET=planted-app-secret-0123456789abcdefghij\nDATABASE_URL=${db}\nREDIS_URL=${redis}\nOPENAI_API_KEY=sk-planted-0123456789\n`;

let cluster: PostgresCluster;
let redis: ThrowawayRedis;
const REDIS_ADMIN = 'iam-paths-redis-admin';

const lsm = useLocalAws();
beforeAll(async () => {
  cluster = await createPostgresCluster();
  await cluster.start();
  await createLoginRole(cluster.serverUrl, 'app', 'unused-with-trust');
  redis = await startThrowawayRedis({ password: REDIS_ADMIN });
  await setAclUser(redis, REDIS_ADMIN, 'app', { add: ['redis-app-pw'] });
}, 60_000);

afterAll(async () => {
  await redis.stop();
  await cluster.destroy();
});

describe('each IAM policy allows exactly the calls its path makes', () => {
  it('CI/CD: secrets setup (first run, a changed value, --enable-rotation) and secrets status', async () => {
    lsm.resetStore();
    const log = new CallLog();
    const c = await cliDeps(lsm, { secretsManager: () => log.record(localClient(lsm)) });
    lsm.registerRotationFunction(FUNCTION_ARN, async () => {});
    const env = join(c.cwd, 'prod.env');
    await writeFile(env, VALUES(`postgresql://app@127.0.0.1:${cluster.port}/app`, aclUserUrl(redis, 'app', 'redis-app-pw')));
    expect(await run(['setup', '--yes', '--from-env', env], c.deps)).toBe(0);
    await writeFile(env, VALUES(`postgresql://app@127.0.0.1:${cluster.port}/app?application_name=x`, aclUserUrl(redis, 'app', 'redis-app-pw')));
    expect(await run(['setup', '--yes', '--from-env', env, '--enable-rotation', FUNCTION_ARN], c.deps)).toBe(0);
    expect(await run(['status'], c.deps)).toBe(0);
    await lsm.whenRotationsIdle();

    // CreateSecret with Tags is authorized as TagResource as well.
    expect(allowedSecretsManagerActions(policies.cicd)).toEqual([...log.actions(), 'TagResource'].sort());
    await expectAllowed(policies.cicd, log);
    await expectNeighboursDenied(policies.cicd, log, 'prefix');
    expect(await decide(policies.cicd, 'lambda:InvokeFunction', FUNCTION_ARN)).toBe('Allowed');
    expect(await decide(policies.cicd, 'lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:another-function`)).toBe('ImplicitlyDenied');
    expect(await decide(policies.cicd, 'secretsmanager:DeleteSecret', secretArn('whatsapp-saas/mvp/admin-token'))).toBe('ExplicitlyDenied');
    for (const unused of ['ListSecrets', 'BatchGetSecretValue', 'UpdateSecret']) {
      expect(await decide(policies.cicd, `secretsmanager:${unused}`, unused.startsWith('List') || unused.startsWith('Batch') ? '*' : secretArn('whatsapp-saas/mvp/admin-token')), unused).toBe('ImplicitlyDenied');
    }
    await expectKms(policies.cicd, ['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('read-only: the engine loading and refreshing, in batches and by its per-secret fallback', async () => {
    lsm.resetStore();
    const client = localClient(lsm);
    for (const e of catalog.entries) {
      if (e.spec.required) {
        const value = e.name === 'DATABASE_URL' ? 'postgresql://u@h/d' : e.name === 'REDIS_URL' ? 'redis://h:6379' : `planted-${e.name.toLowerCase()}-0123456789abcdefghij`;
        await client.send(new CreateSecretCommand({ Name: e.awsId, SecretString: value }));
      }
    }
    const log = new CallLog();
    for (const denyBatch of [false, true]) {
      lsm.setFaults({ denyOperations: denyBatch ? ['BatchGetSecretValue'] : [] });
      const engine = createSecretsEngine({ catalog, source: createAwsSource({ client: log.record(localClient(lsm)), region: 'us-east-1' }) });
      await engine.initialize();
      await engine.refresh();
      engine.close();
    }
    lsm.clearFaults();

    expect(allowedSecretsManagerActions(policies.readOnly)).toEqual(log.actions());
    await expectAllowed(policies.readOnly, log);
    await expectNeighboursDenied(policies.readOnly, log, 'prefix');
    for (const write of ['DescribeSecret', 'PutSecretValue', 'CreateSecret', 'DeleteSecret', 'UpdateSecretVersionStage']) {
      expect(await decide(policies.readOnly, `secretsmanager:${write}`, secretArn('whatsapp-saas/mvp/admin-token')), write).toBe('ImplicitlyDenied');
    }
    await expectKms(policies.readOnly, ['kms:Decrypt']);
  });

  it('rotation: rotate, verify and rollback of the admin token, and rotate of the Meta verify token', async () => {
    lsm.resetStore();
    const client = localClient(lsm);
    await client.send(new CreateSecretCommand({ Name: catalog.entry('ADMIN_TOKEN')!.awsId, SecretString: ADMIN_TOKEN }));
    await client.send(new CreateSecretCommand({ Name: catalog.entry('META_VERIFY_TOKEN')!.awsId, SecretString: VERIFY_TOKEN }));
    const log = new CallLog();
    const c = await cliDeps(lsm, { secretsManager: () => log.record(localClient(lsm)) });
    for (const argv of [
      ['rotate', 'admin-token', '--yes', '--print'],
      ['verify', 'admin-token'],
      ['rollback', 'admin-token', '--yes'],
      ['rotate', 'meta-verify-token', '--yes', '--print', '--force'],
    ]) {
      expect(await run(argv, c.deps), argv.join(' ')).toBe(0);
    }

    expect(allowedSecretsManagerActions(policies.rotation)).toEqual(log.actions());
    await expectAllowed(policies.rotation, log);
    await expectNeighboursDenied(policies.rotation, log, 'secrets');
    for (const name of ['database-url', 'redis-url']) {
      expect(await decide(policies.rotation, 'secretsmanager:PutSecretValue', secretArn(`whatsapp-saas/mvp/${name}`))).toBe('ExplicitlyDenied');
    }
    await expectKms(policies.rotation, ['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('rotation function: its four kinds under RotateSecret (both database strategies), and the CLI rotating the database and Redis passwords', async () => {
    lsm.resetStore();
    const client = localClient(lsm);
    const put = (name: string, value: string) => client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    await put(catalog.entry('ADMIN_TOKEN')!.awsId, ADMIN_TOKEN);
    await put(catalog.entry('META_VERIFY_TOKEN')!.awsId, VERIFY_TOKEN);
    await put(catalog.entry('DATABASE_URL')!.awsId, `postgresql://app:pw@127.0.0.1:${cluster.port}/app`);
    await put(catalog.entry('REDIS_URL')!.awsId, aclUserUrl(redis, 'app', 'redis-app-pw'));
    await put('whatsapp-saas/mvp/database-master', JSON.stringify({ username: 'postgres', password: 'trust' }));
    await put('whatsapp-saas/mvp/redis-master', JSON.stringify({ username: 'default', password: REDIS_ADMIN }));
    const log = new CallLog();
    let strategy = 'single-user';
    lsm.registerRotationFunction(FUNCTION_ARN, (event) =>
      handleRotationEvent(event, {
        client: log.record(localClient(lsm)),
        catalog,
        env: { DATABASE_ROTATION_STRATEGY: strategy, DATABASE_MASTER_SECRET_ID: 'whatsapp-saas/mvp/database-master', REDIS_MASTER_SECRET_ID: 'whatsapp-saas/mvp/redis-master' },
        logger: captureLogger(),
        clients: createCredentialClients(),
      }),
    );
    const rotateBySecretsManager = async (name: string) => {
      const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: catalog.entry(name)!.awsId, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 30 } }));
      await lsm.whenRotationsIdle();
      expect(lsm.rotations().find((r) => r.token === VersionId)?.status, name).toBe('succeeded');
    };
    for (const name of ['ADMIN_TOKEN', 'META_VERIFY_TOKEN', 'DATABASE_URL', 'REDIS_URL']) await rotateBySecretsManager(name);
    strategy = 'alternating-users';
    await rotateBySecretsManager('DATABASE_URL');
    const service = await startStandInService(lsm, 'whatsapp-saas');
    const c = await cliDeps(lsm, { secretsManager: () => log.record(localClient(lsm)) });
    for (const argv of [
      ['rotate', 'database-password', '--yes', '--force', '--strategy', 'alternating-users', '--master-secret', 'whatsapp-saas/mvp/database-master', '--notify', service.url],
      ['rotate', 'redis-password', '--yes', '--force', '--master-secret', 'whatsapp-saas/mvp/redis-master', '--notify', service.url],
    ]) {
      expect(await run(argv, c.deps), `${argv.join(' ')}: ${c.stderr()}`).toBe(0);
    }
    await service.close();

    expect(allowedSecretsManagerActions(policies.rotationFunction)).toEqual(log.actions().filter((a) => a !== 'RotateSecret'));
    await expectAllowed(policies.rotationFunction, log);
    await expectNeighboursDenied(policies.rotationFunction, log, 'secrets');
    // Of the master secrets only their value is read; GetRandomPassword is never needed (passwords are made locally).
    expect(log.calls.filter((x) => x.secret.endsWith('-master')).map((x) => x.action)).toEqual(expect.arrayContaining(['GetSecretValue']));
    expect(new Set(log.calls.filter((x) => x.secret.endsWith('-master')).map((x) => x.action))).toEqual(new Set(['GetSecretValue']));
    for (const action of ['DescribeSecret', 'PutSecretValue', 'UpdateSecretVersionStage']) {
      expect(await decide(policies.rotationFunction, `secretsmanager:${action}`, secretArn('whatsapp-saas/mvp/database-master')), action).toBe('ImplicitlyDenied');
    }
    expect(await decide(policies.rotationFunction, 'secretsmanager:GetRandomPassword', '*')).toBe('ImplicitlyDenied');
    for (const other of ['openai-api-key', 'meta-app-secret']) {
      expect(await decide(policies.rotationFunction, 'secretsmanager:GetSecretValue', secretArn(`whatsapp-saas/mvp/${other}`)), other).toBe('ImplicitlyDenied');
    }
    await expectKms(policies.rotationFunction, ['kms:Decrypt', 'kms:GenerateDataKey']);
  }, 60_000);
});
