import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createCredentialClients } from '../../src/rotation/create-credential-clients.js';
import { handleRotationEvent } from '../../src/rotation/lambda-rotation.js';
import { captureLogger } from '../support/capture-logger.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { freePort } from '../service/support/free-port.js';

/** The rotation function's credential kinds: what it does after finishSecret (the Redis push). */
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:noop';

const lsm = useLocalAws();
beforeAll(async () => {
  // Only to turn rotation on (RotateImmediately false runs its configuration test here).
  lsm.registerRotationFunction(FUNCTION_ARN, async () => {});
});

describe('the rotation function after finishing a credential', () => {
  it('finishes the step when the refresh notice cannot be published, logging a warning with the code and no value', async () => {
    const catalog = whatsappSaasCatalog({ project: 'lamcred' });
    const client = localClient(lsm);
    const databaseId = catalog.entry('DATABASE_URL')!.awsId;
    const closedPort = await freePort();
    await client.send(new CreateSecretCommand({ Name: databaseId, SecretString: 'postgresql://app:canary-lam-old-1@127.0.0.1:5432/app' }));
    await client.send(new CreateSecretCommand({ Name: catalog.entry('REDIS_URL')!.awsId, SecretString: `redis://app:canary-lam-redis-2@127.0.0.1:${closedPort}/0` }));
    await client.send(new RotateSecretCommand({ SecretId: databaseId, RotationLambdaARN: FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }));
    await lsm.whenRotationsIdle();
    const versionId = randomUUID();
    await client.send(
      new PutSecretValueCommand({ SecretId: databaseId, ClientRequestToken: versionId, SecretString: 'postgresql://app:canary-lam-new-3@127.0.0.1:5432/app', VersionStages: ['AWSPENDING'] }),
    );
    const logger = captureLogger();

    await handleRotationEvent({ SecretId: databaseId, ClientRequestToken: versionId, Step: 'finishSecret' }, { client, catalog, env: {}, logger, clients: createCredentialClients() });

    const described = await client.send(new DescribeSecretCommand({ SecretId: databaseId }));
    expect(described.VersionIdsToStages?.[versionId]).toContain('AWSCURRENT');
    const warning = logger.lines.find((l) => l.obj.event === 'rotation.refresh_notice_failed');
    expect(warning).toMatchObject({ level: 'warn', obj: { name: 'DATABASE_URL', versionId, code: 'ECONNREFUSED' } });
    expect(logger.text()).not.toMatch(/canary-lam-/);
  });
});
