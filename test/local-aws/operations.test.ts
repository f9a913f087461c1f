import { randomUUID } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { secretsManagerClient } from './sdk-client.js';
import { useLocalAws } from '../support/local-aws.js';

const START_MS = Date.UTC(2026, 2, 1, 12, 0, 0, 250);
const DAY_MS = 24 * 60 * 60 * 1000;

describe('local Secrets Manager operations through the AWS SDK', () => {
  const clock = { nowMs: START_MS, now(): number { return this.nowMs; } };
  let client: SecretsManagerClient;

  const lsm = useLocalAws({ clock });
  beforeAll(async () => {
    client = secretsManagerClient(lsm.url);
  });

  afterAll(async () => {
    client.destroy();
  });

  beforeEach(() => {
    lsm.resetStore();
    lsm.clearFaults();
    clock.nowMs = START_MS;
  });

  async function create(name: string, value = `value of ${name}`, extra: { Description?: string; Tags?: { Key: string; Value: string }[] } = {}) {
    return client.send(new CreateSecretCommand({ Name: name, SecretString: value, ...extra }));
  }

  async function put(secretId: string, value: string, extra: { ClientRequestToken?: string; VersionStages?: string[] } = {}) {
    return client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value, ...extra }));
  }

  describe('CreateSecret and GetSecretValue', () => {
    it('creates a secret and reads its current value back', async () => {
      const created = await create('whatsapp-saas/mvp/admin-token', 'tok-1');
      const read = await client.send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }));

      expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:whatsapp-saas\/mvp\/admin-token-[A-Za-z0-9]{6}$/);
      expect(created.VersionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(read).toMatchObject({
        ARN: created.ARN,
        Name: 'whatsapp-saas/mvp/admin-token',
        VersionId: created.VersionId,
        SecretString: 'tok-1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: new Date(START_MS),
      });
    });

    it('reads a secret by full and by partial ARN', async () => {
      const created = await create('db-url', 'postgres://x');
      const partial = created.ARN?.slice(0, -7);

      await expect(client.send(new GetSecretValueCommand({ SecretId: created.ARN }))).resolves.toMatchObject({ SecretString: 'postgres://x' });
      await expect(client.send(new GetSecretValueCommand({ SecretId: partial }))).resolves.toMatchObject({ SecretString: 'postgres://x' });
    });

    it('stores and returns a binary secret', async () => {
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      await client.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: bytes }));

      const read = await client.send(new GetSecretValueCommand({ SecretId: 'binary' }));

      expect(read.SecretString).toBeUndefined();
      expect(Buffer.from(read.SecretBinary ?? new Uint8Array())).toEqual(Buffer.from(bytes));
    });

    it('answers ResourceExistsException for a name that exists', async () => {
      await create('dup');
      await expect(create('dup', 'other')).rejects.toMatchObject({ name: 'ResourceExistsException' });
    });

    it('treats a retried create with the same ClientRequestToken and value as the same create', async () => {
      const token = randomUUID();
      const first = await client.send(new CreateSecretCommand({ Name: 'retried', SecretString: 'v', ClientRequestToken: token }));
      const retry = await client.send(new CreateSecretCommand({ Name: 'retried', SecretString: 'v', ClientRequestToken: token }));

      expect(retry).toMatchObject({ ARN: first.ARN, VersionId: token });
    });

    it('creates a secret without a value, which has no current version to read', async () => {
      const created = await client.send(new CreateSecretCommand({ Name: 'no-value' }));

      expect(created.VersionId).toBeUndefined();
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'no-value' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      });
    });

    it('rejects an invalid secret name with ValidationException', async () => {
      await expect(create('bad name!')).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('rejects a SecretString over 65536 bytes without echoing it', async () => {
      const huge = 'é'.repeat(32_769);
      const error = await create('huge', huge).catch((e: unknown) => e);

      expect(error).toMatchObject({ name: 'ValidationException' });
      expect((error as Error).message).not.toContain('éé');
    });

    it('rejects SecretString and SecretBinary together', async () => {
      await expect(
        client.send(new CreateSecretCommand({ Name: 'both', SecretString: 'a', SecretBinary: new Uint8Array([1]) })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('answers ResourceNotFoundException for an unknown secret', async () => {
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('reads a version by VersionStage and by VersionId', async () => {
      const created = await create('staged', 'one');
      await put('staged', 'two');

      const previous = await client.send(new GetSecretValueCommand({ SecretId: 'staged', VersionStage: 'AWSPREVIOUS' }));
      const byId = await client.send(new GetSecretValueCommand({ SecretId: 'staged', VersionId: created.VersionId }));

      expect(previous).toMatchObject({ SecretString: 'one', VersionStages: ['AWSPREVIOUS'] });
      expect(byId).toMatchObject({ SecretString: 'one', VersionId: created.VersionId });
    });

    it('answers InvalidRequestException when VersionId and VersionStage name different versions', async () => {
      const created = await create('mismatch', 'one');
      await put('mismatch', 'two');

      await expect(
        client.send(new GetSecretValueCommand({ SecretId: 'mismatch', VersionId: created.VersionId, VersionStage: 'AWSCURRENT' })),
      ).rejects.toMatchObject({ name: 'InvalidRequestException' });
    });
  });

  describe('BatchGetSecretValue', () => {
    it('returns values for ids and lists the ids it could not read in Errors', async () => {
      await create('app/a', 'A');
      const b = await create('app/b', 'B');
      await create('app/gone', 'G');
      await client.send(new DeleteSecretCommand({ SecretId: 'app/gone' }));

      const result = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/a', b.ARN ?? '', 'app/missing', 'app/gone'] }));

      expect(result.SecretValues?.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([
        ['app/a', 'A', ['AWSCURRENT']],
        ['app/b', 'B', ['AWSCURRENT']],
      ]);
      expect(result.SecretValues?.[0]?.CreatedDate).toEqual(new Date(START_MS));
      expect(result.Errors).toEqual([
        { SecretId: 'app/missing', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
        {
          SecretId: 'app/gone',
          ErrorCode: 'InvalidRequestException',
          Message: "You can't perform this operation on the secret because it was marked for deletion.",
        },
      ]);
    });

    it('rejects more than 20 ids with ValidationException', async () => {
      const ids = Array.from({ length: 21 }, (_, i) => `s${i}`);
      await expect(client.send(new BatchGetSecretValueCommand({ SecretIdList: ids }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('secretIdList') as unknown,
      });
    });

    it('requires exactly one of SecretIdList and Filters', async () => {
      await expect(client.send(new BatchGetSecretValueCommand({}))).rejects.toMatchObject({ name: 'InvalidParameterException' });
      await expect(
        client.send(new BatchGetSecretValueCommand({ SecretIdList: ['a'], Filters: [{ Key: 'name', Values: ['a'] }] })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('selects secrets by case-sensitive name prefix', async () => {
      await create('whatsapp-saas/mvp/admin-token');
      await create('whatsapp-saas/mvp/openai-api-key');
      await create('whatsapp-saas/prod/admin-token');
      await create('WhatsApp-saas/mvp/other');

      const result = await client.send(
        new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['whatsapp-saas/mvp/'] }] }),
      );

      expect(result.SecretValues?.map((v) => v.Name)).toEqual(['whatsapp-saas/mvp/admin-token', 'whatsapp-saas/mvp/openai-api-key']);
      expect(result.Errors).toEqual([]);
    });

    it('selects secrets by tag key, tag value, description and negation', async () => {
      await create('one', 'x', { Tags: [{ Key: 'project', Value: 'whatsapp-saas' }], Description: 'Admin token' });
      await create('two', 'x', { Tags: [{ Key: 'team', Value: 'whatsapp-saas' }], Description: 'database URL' });
      await create('three', 'x', { Tags: [{ Key: 'project', Value: 'other' }] });
      const names = async (filters: { Key: 'tag-key' | 'tag-value' | 'description' | 'name'; Values: string[] }[]) =>
        (await client.send(new BatchGetSecretValueCommand({ Filters: filters }))).SecretValues?.map((v) => v.Name);

      expect(await names([{ Key: 'tag-key', Values: ['proj'] }])).toEqual(['one', 'three']);
      expect(await names([{ Key: 'tag-value', Values: ['whatsapp'] }])).toEqual(['one', 'two']);
      expect(await names([{ Key: 'description', Values: ['DATA'] }])).toEqual(['two']);
      expect(await names([{ Key: 'tag-key', Values: ['project'] }, { Key: 'name', Values: ['!thr'] }])).toEqual(['one']);
    });

    it('pages filtered results with MaxResults and NextToken', async () => {
      for (const name of ['p/1', 'p/2', 'p/3']) await create(name);

      const first = await client.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['p/'] }], MaxResults: 2 }));
      const second = await client.send(
        new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['p/'] }], MaxResults: 2, NextToken: first.NextToken }),
      );

      expect(first.SecretValues?.map((v) => v.Name)).toEqual(['p/1', 'p/2']);
      expect(first.NextToken).toBeDefined();
      expect(second.SecretValues?.map((v) => v.Name)).toEqual(['p/3']);
      expect(second.NextToken).toBeUndefined();
    });

    it('answers InvalidNextTokenException for a token it did not issue', async () => {
      await expect(
        client.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['p/'] }], NextToken: 'bogus' })),
      ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    });
  });

  describe('PutSecretValue', () => {
    it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old current one', async () => {
      const v1 = await create('rotating', 'one');
      const v2 = await put('rotating', 'two');
      const v3 = await put('rotating', 'three');

      const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotating' }));

      expect(v3.VersionStages).toEqual(['AWSCURRENT']);
      expect(described.VersionIdsToStages).toEqual({ [v2.VersionId ?? '']: ['AWSPREVIOUS'], [v3.VersionId ?? '']: ['AWSCURRENT'] });
      expect(Object.keys(described.VersionIdsToStages ?? {})).not.toContain(v1.VersionId);
    });

    it('leaves AWSCURRENT in place when the new version gets only other labels', async () => {
      await create('pending', 'one');
      const pending = await put('pending', 'two', { VersionStages: ['AWSPENDING'] });

      expect(pending.VersionStages).toEqual(['AWSPENDING']);
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'pending' }))).resolves.toMatchObject({ SecretString: 'one' });
    });

    it('returns the same version for a repeated ClientRequestToken with the same value and creates nothing', async () => {
      await create('idempotent', 'one');
      const token = randomUUID();
      const first = await put('idempotent', 'two', { ClientRequestToken: token });
      const again = await put('idempotent', 'two', { ClientRequestToken: token });
      const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'idempotent', IncludeDeprecated: true }));

      expect(first.VersionId).toBe(token);
      expect(again).toMatchObject({ VersionId: token, VersionStages: ['AWSCURRENT'] });
      expect(versions.Versions).toHaveLength(2);
    });

    it('answers ResourceExistsException for a repeated ClientRequestToken with another value', async () => {
      await create('idempotent', 'one');
      const token = randomUUID();
      await put('idempotent', 'two', { ClientRequestToken: token });

      await expect(put('idempotent', 'three', { ClientRequestToken: token })).rejects.toMatchObject({ name: 'ResourceExistsException' });
    });

    it('answers InvalidRequestException without a value', async () => {
      await create('novalue');
      await expect(client.send(new PutSecretValueCommand({ SecretId: 'novalue' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
    });
  });

  describe('UpdateSecret', () => {
    it('with a value, creates a new version labelled AWSCURRENT and moves AWSPREVIOUS onto the old one', async () => {
      const created = await create('upd/value', 'v-1');
      clock.nowMs += 1_000;

      const updated = await client.send(new UpdateSecretCommand({ SecretId: 'upd/value', SecretString: 'v-2' }));
      const current = await client.send(new GetSecretValueCommand({ SecretId: 'upd/value' }));
      const previous = await client.send(new GetSecretValueCommand({ SecretId: 'upd/value', VersionStage: 'AWSPREVIOUS' }));

      expect(updated).toMatchObject({ ARN: created.ARN, Name: 'upd/value', VersionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(current).toMatchObject({ SecretString: 'v-2', VersionId: updated.VersionId, VersionStages: ['AWSCURRENT'] });
      expect(previous).toMatchObject({ SecretString: 'v-1', VersionId: created.VersionId });
    });

    it('with only a description, changes the description and creates no version', async () => {
      const created = await create('upd/description', 'v-1', { Description: 'old' });

      const updated = await client.send(new UpdateSecretCommand({ SecretId: 'upd/description', Description: 'new words' }));
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'upd/description' }));

      expect(updated.VersionId).toBeUndefined();
      expect(updated).toMatchObject({ ARN: created.ARN, Name: 'upd/description' });
      expect(described.Description).toBe('new words');
      expect(Object.keys(described.VersionIdsToStages ?? {})).toEqual([created.VersionId]);
    });

    it('is idempotent on the ClientRequestToken, and refuses the same token with other data', async () => {
      await create('upd/token', 'v-1');
      const token = randomUUID();

      const first = await client.send(new UpdateSecretCommand({ SecretId: 'upd/token', SecretString: 'v-2', ClientRequestToken: token }));
      const again = await client.send(new UpdateSecretCommand({ SecretId: 'upd/token', SecretString: 'v-2', ClientRequestToken: token }));

      expect(again.VersionId).toBe(first.VersionId);
      await expect(client.send(new UpdateSecretCommand({ SecretId: 'upd/token', SecretString: 'v-3', ClientRequestToken: token }))).rejects.toMatchObject({
        name: 'ResourceExistsException',
      });
    });

    it('answers ResourceNotFoundException for an unknown secret, and AccessDeniedException for a denied one', async () => {
      await expect(client.send(new UpdateSecretCommand({ SecretId: 'upd/missing', SecretString: 'x' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await create('upd/denied', 'v-1');
      lsm.setFaults({ denySecrets: ['upd/denied'] });
      await expect(client.send(new UpdateSecretCommand({ SecretId: 'upd/denied', SecretString: 'x' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });
  });

  describe('UpdateSecretVersionStage', () => {
    it('rolls back to the previous version', async () => {
      const v1 = await create('rollback', 'one');
      const v2 = await put('rollback', 'two');

      const result = await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'rollback',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: v1.VersionId,
          RemoveFromVersionId: v2.VersionId,
        }),
      );
      const current = await client.send(new GetSecretValueCommand({ SecretId: 'rollback' }));
      const previous = await client.send(new GetSecretValueCommand({ SecretId: 'rollback', VersionStage: 'AWSPREVIOUS' }));

      expect(result).toMatchObject({ ARN: v1.ARN, Name: 'rollback' });
      expect(current).toMatchObject({ SecretString: 'one', VersionId: v1.VersionId });
      expect(previous).toMatchObject({ SecretString: 'two', VersionId: v2.VersionId });
    });

    it('lets exactly one of two concurrent rollbacks naming the same RemoveFromVersionId win', async () => {
      const v1 = await create('race', 'one');
      const v2 = await put('race', 'two');
      const rollback = () =>
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'race',
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: v1.VersionId,
            RemoveFromVersionId: v2.VersionId,
          }),
        );

      const outcomes = await Promise.allSettled([rollback(), rollback()]);

      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(rejected?.reason).toMatchObject({ name: 'InvalidParameterException' });
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'race' }));
      expect(described.VersionIdsToStages).toEqual({ [v1.VersionId ?? '']: ['AWSCURRENT'], [v2.VersionId ?? '']: ['AWSPREVIOUS'] });
    });

    it('refuses to move a label held elsewhere without RemoveFromVersionId', async () => {
      const v1 = await create('strict', 'one');
      await put('strict', 'two');

      await expect(
        client.send(new UpdateSecretVersionStageCommand({ SecretId: 'strict', VersionStage: 'AWSCURRENT', MoveToVersionId: v1.VersionId })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('RemoveFromVersionId') as unknown });
    });
  });

  describe('DescribeSecret, ListSecrets and ListSecretVersionIds', () => {
    it('describes a secret without its value', async () => {
      const created = await create('described', 'hidden-value', { Description: 'the admin token', Tags: [{ Key: 'env', Value: 'mvp' }] });
      clock.nowMs += 1000;
      await client.send(new GetSecretValueCommand({ SecretId: 'described' }));

      const described = await client.send(new DescribeSecretCommand({ SecretId: 'described' }));

      expect(described).toMatchObject({
        ARN: created.ARN,
        Name: 'described',
        Description: 'the admin token',
        Tags: [{ Key: 'env', Value: 'mvp' }],
        VersionIdsToStages: { [created.VersionId ?? '']: ['AWSCURRENT'] },
        CreatedDate: new Date(START_MS),
        LastChangedDate: new Date(START_MS),
        LastAccessedDate: new Date(Date.UTC(2026, 2, 1)),
      });
      expect(described.DeletedDate).toBeUndefined();
      expect(JSON.stringify(described)).not.toContain('hidden-value');
    });

    it('lists secrets with filters, pages, and hides scheduled deletions unless asked', async () => {
      for (const name of ['l/1', 'l/2', 'l/3', 'other']) {
        await create(name);
        clock.nowMs += 1000;
      }
      await client.send(new DeleteSecretCommand({ SecretId: 'l/3' }));

      const filtered = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['l/'] }] }));
      const withDeleted = await client.send(
        new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['l/'] }], IncludePlannedDeletion: true }),
      );
      const page1 = await client.send(new ListSecretsCommand({ MaxResults: 2 }));
      const page2 = await client.send(new ListSecretsCommand({ MaxResults: 2, NextToken: page1.NextToken }));
      const newestFirst = await client.send(new ListSecretsCommand({ SortOrder: 'desc' }));

      expect(filtered.SecretList?.map((s) => s.Name)).toEqual(['l/1', 'l/2']);
      expect(filtered.SecretList?.[0]?.SecretVersionsToStages).toBeDefined();
      expect(withDeleted.SecretList?.map((s) => [s.Name, s.DeletedDate !== undefined])).toEqual([
        ['l/1', false],
        ['l/2', false],
        ['l/3', true],
      ]);
      expect([...(page1.SecretList ?? []), ...(page2.SecretList ?? [])].map((s) => s.Name)).toEqual(['l/1', 'l/2', 'other']);
      expect(page2.NextToken).toBeUndefined();
      expect(newestFirst.SecretList?.map((s) => s.Name)).toEqual(['other', 'l/2', 'l/1']);
    });

    it('lists version ids newest first, deprecated ones only when asked', async () => {
      const v1 = await create('versions', 'one');
      clock.nowMs += 1000;
      const v2 = await put('versions', 'two');
      clock.nowMs += 1000;
      const v3 = await put('versions', 'three');

      const labelled = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'versions' }));
      const all = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'versions', IncludeDeprecated: true }));

      expect(labelled.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
        [v3.VersionId, ['AWSCURRENT']],
        [v2.VersionId, ['AWSPREVIOUS']],
      ]);
      expect(all.Versions?.map((v) => v.VersionId)).toEqual([v3.VersionId, v2.VersionId, v1.VersionId]);
      expect(all.Versions?.[2]?.CreatedDate).toEqual(new Date(START_MS));
      expect(all).toMatchObject({ ARN: v1.ARN, Name: 'versions' });
    });
  });

  describe('TagResource and UntagResource', () => {
    it('adds, replaces and removes tags', async () => {
      await create('tagged', 'x', { Tags: [{ Key: 'env', Value: 'dev' }] });

      await client.send(new TagResourceCommand({ SecretId: 'tagged', Tags: [{ Key: 'env', Value: 'mvp' }, { Key: 'team', Value: 'core' }] }));
      const afterTag = await client.send(new DescribeSecretCommand({ SecretId: 'tagged' }));
      await client.send(new UntagResourceCommand({ SecretId: 'tagged', TagKeys: ['env', 'not-there'] }));
      const afterUntag = await client.send(new DescribeSecretCommand({ SecretId: 'tagged' }));

      expect(afterTag.Tags).toEqual([
        { Key: 'env', Value: 'mvp' },
        { Key: 'team', Value: 'core' },
      ]);
      expect(afterUntag.Tags).toEqual([{ Key: 'team', Value: 'core' }]);
    });
  });

  describe('DeleteSecret and RestoreSecret', () => {
    it('schedules deletion 30 days out by default, refuses reads, and restores', async () => {
      await create('doomed', 'v');

      const deleted = await client.send(new DeleteSecretCommand({ SecretId: 'doomed' }));
      const readWhileDeleted = client.send(new GetSecretValueCommand({ SecretId: 'doomed' }));
      await expect(readWhileDeleted).rejects.toMatchObject({
        name: 'InvalidRequestException',
        message: expect.stringContaining('marked for deletion') as unknown,
      });
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
      await client.send(new RestoreSecretCommand({ SecretId: 'doomed' }));

      expect(deleted.DeletionDate).toEqual(new Date(START_MS + 30 * DAY_MS));
      expect(described.DeletedDate).toEqual(new Date(START_MS));
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'doomed' }))).resolves.toMatchObject({ SecretString: 'v' });
    });

    it('removes the secret for good once the recovery window has passed', async () => {
      await create('windowed', 'v');
      await client.send(new DeleteSecretCommand({ SecretId: 'windowed', RecoveryWindowInDays: 7 }));

      clock.nowMs += 7 * DAY_MS;

      await expect(client.send(new DescribeSecretCommand({ SecretId: 'windowed' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      await expect(create('windowed', 'again')).resolves.toBeDefined();
    });

    it('deletes at once with ForceDeleteWithoutRecovery, even a secret that does not exist', async () => {
      await create('forced', 'v');

      await client.send(new DeleteSecretCommand({ SecretId: 'forced', ForceDeleteWithoutRecovery: true }));
      await client.send(new DeleteSecretCommand({ SecretId: 'never-existed', ForceDeleteWithoutRecovery: true }));

      await expect(client.send(new GetSecretValueCommand({ SecretId: 'forced' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });

    it('validates the recovery window', async () => {
      await create('window', 'v');

      await expect(client.send(new DeleteSecretCommand({ SecretId: 'window', RecoveryWindowInDays: 6 }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
      await expect(
        client.send(new DeleteSecretCommand({ SecretId: 'window', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('refuses to delete a secret already scheduled for deletion', async () => {
      await create('twice', 'v');
      await client.send(new DeleteSecretCommand({ SecretId: 'twice' }));

      await expect(client.send(new DeleteSecretCommand({ SecretId: 'twice' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
    });
  });
});
