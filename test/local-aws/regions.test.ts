import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  StopReplicationToReplicaCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { secretsManagerClient } from './sdk-client.js';

const FIRST = 'first-value-Xq7mZp2Lr9Vb4Nc8Kd3Hs6Tw1Yf5Gj0';
const SECOND = 'second-value-Pm3Qs8Wz1Rk6Vn4Lb9Xc2Hd7Tf5Gy0';

describe('local Secrets Manager regions', () => {
  let lsm: LocalSecretsManager;
  let east: SecretsManagerClient;
  let west: SecretsManagerClient;
  let europe: SecretsManagerClient;

  beforeAll(async () => {
    lsm = await startLocalSecretsManager({ port: 0 });
    east = secretsManagerClient(lsm.url, { region: 'us-east-1' });
    west = secretsManagerClient(lsm.url, { region: 'us-west-2' });
    europe = secretsManagerClient(lsm.url, { region: 'eu-west-1' });
  });

  afterEach(() => {
    lsm.clearFaults();
    lsm.resetStore();
    lsm.resetCounts();
  });

  afterAll(async () => {
    await lsm.close();
  });

  it('serves each region from the region of the request signature', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/only-east', SecretString: FIRST }));

    const read = await east.send(new GetSecretValueCommand({ SecretId: 'app/only-east' }));
    await expect(west.send(new GetSecretValueCommand({ SecretId: 'app/only-east' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(read.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:/);
    expect(lsm.counts('us-west-2')).toEqual({ GetSecretValue: 1 });
    expect(lsm.counts('us-east-1')).toEqual({ CreateSecret: 1, GetSecretValue: 1 });
  });

  it('creates replicas with AddReplicaRegions and reads them in their region under the same name', async () => {
    const created = await east.send(
      new CreateSecretCommand({ Name: 'app/token', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }, { Region: 'eu-west-1' }] }),
    );

    const fromWest = await west.send(new GetSecretValueCommand({ SecretId: 'app/token' }));
    const fromEurope = await europe.send(new GetSecretValueCommand({ SecretId: 'app/token' }));
    expect(created.ReplicationStatus?.map((r) => [r.Region, r.Status])).toEqual([
      ['us-west-2', 'InSync'],
      ['eu-west-1', 'InSync'],
    ]);
    expect(fromWest.SecretString).toBe(FIRST);
    expect(fromWest.VersionId).toBe(created.VersionId);
    expect(fromWest.ARN).toBe(created.ARN!.replace(':us-east-1:', ':us-west-2:'));
    expect(fromEurope.VersionStages).toEqual(['AWSCURRENT']);
  });

  it('replicates an existing secret with ReplicateSecretToRegions and says so in DescribeSecret on both sides', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/existing', SecretString: FIRST }));

    const answer = await east.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/existing', AddReplicaRegions: [{ Region: 'us-west-2', KmsKeyId: 'alias/west-key' }] }));
    const primary = await east.send(new DescribeSecretCommand({ SecretId: 'app/existing' }));
    const replica = await west.send(new DescribeSecretCommand({ SecretId: 'app/existing' }));

    expect(answer.ReplicationStatus).toEqual([{ Region: 'us-west-2', KmsKeyId: 'alias/west-key', Status: 'InSync' }]);
    expect(primary.ReplicationStatus).toEqual([{ Region: 'us-west-2', KmsKeyId: 'alias/west-key', Status: 'InSync' }]);
    expect(primary.PrimaryRegion).toBeUndefined();
    expect(replica.PrimaryRegion).toBe('us-east-1');
  });

  it('leaves an existing replica as it is when the same region is added again', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/twice', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));

    const again = await east.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/twice', AddReplicaRegions: [{ Region: 'us-west-2' }] }));

    expect(again.ReplicationStatus).toEqual([{ Region: 'us-west-2', Status: 'InSync' }]);
  });

  it('reports a failed replica when the destination region already holds a secret of that name', async () => {
    await west.send(new CreateSecretCommand({ Name: 'app/taken', SecretString: SECOND }));
    await east.send(new CreateSecretCommand({ Name: 'app/taken', SecretString: FIRST }));

    const answer = await east.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/taken', AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    const westValue = await west.send(new GetSecretValueCommand({ SecretId: 'app/taken' }));

    expect(answer.ReplicationStatus?.[0]).toMatchObject({ Region: 'us-west-2', Status: 'Failed', StatusMessage: expect.stringContaining('already exists') });
    expect(westValue.SecretString).toBe(SECOND);
  });

  it('refuses the primary region as a replica region', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/self', SecretString: FIRST }));

    await expect(
      east.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/self', AddReplicaRegions: [{ Region: 'us-east-1' }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('carries new versions and label moves to the replicas', async () => {
    const created = await east.send(new CreateSecretCommand({ Name: 'app/moving', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    const pending = await east.send(new PutSecretValueCommand({ SecretId: 'app/moving', SecretString: SECOND, VersionStages: ['AWSPENDING'] }));

    await east.send(
      new UpdateSecretVersionStageCommand({ SecretId: 'app/moving', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: created.VersionId }),
    );
    const current = await west.send(new GetSecretValueCommand({ SecretId: 'app/moving' }));
    const previous = await west.send(new GetSecretValueCommand({ SecretId: 'app/moving', VersionStage: 'AWSPREVIOUS' }));

    expect(current.SecretString).toBe(SECOND);
    expect(current.VersionStages).toEqual(expect.arrayContaining(['AWSCURRENT', 'AWSPENDING']));
    expect(previous.VersionId).toBe(created.VersionId);
  });

  it('holds a change back from a replica for the injected replication lag, then delivers it', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/lagging', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    lsm.setFaults({ replicationLagMs: 60_000 }, 'us-west-2');

    const put = await east.send(new PutSecretValueCommand({ SecretId: 'app/lagging', SecretString: SECOND }));
    const during = await west.send(new GetSecretValueCommand({ SecretId: 'app/lagging' }));
    const status = await east.send(new DescribeSecretCommand({ SecretId: 'app/lagging' }));
    lsm.flushReplication();
    await lsm.whenReplicated();
    const after = await west.send(new GetSecretValueCommand({ SecretId: 'app/lagging' }));

    expect(during.SecretString).toBe(FIRST);
    expect(status.ReplicationStatus).toEqual([{ Region: 'us-west-2', Status: 'InProgress' }]);
    expect(after.VersionId).toBe(put.VersionId);
    await expect(west.send(new GetSecretValueCommand({ SecretId: 'app/lagging', VersionId: put.VersionId }))).resolves.toMatchObject({ SecretString: SECOND });
  });

  it('delivers a lagged change by itself once the lag has run out', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/later', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    lsm.setFaults({ replicationLagMs: 20 }, 'us-west-2');

    const put = await east.send(new PutSecretValueCommand({ SecretId: 'app/later', SecretString: SECOND }));
    await lsm.whenReplicated();
    const after = await west.send(new GetSecretValueCommand({ SecretId: 'app/later' }));

    expect(after.VersionId).toBe(put.VersionId);
  });

  it('refuses a write to a replica, naming the primary region', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/read-only', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));

    const refused = west.send(new PutSecretValueCommand({ SecretId: 'app/read-only', SecretString: SECOND }));

    await expect(refused).rejects.toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining('us-east-1') });
  });

  it('removes a replica with RemoveRegionsFromReplication', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/removed', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));

    const answer = await east.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'app/removed', RemoveReplicaRegions: ['us-west-2'] }));

    expect(answer.ReplicationStatus).toEqual([]);
    await expect(west.send(new GetSecretValueCommand({ SecretId: 'app/removed' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('makes a replica a standalone secret with StopReplicationToReplica', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/promoted', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));

    await west.send(new StopReplicationToReplicaCommand({ SecretId: 'app/promoted' }));
    await west.send(new PutSecretValueCommand({ SecretId: 'app/promoted', SecretString: SECOND }));
    const primary = await east.send(new DescribeSecretCommand({ SecretId: 'app/promoted' }));
    const eastValue = await east.send(new GetSecretValueCommand({ SecretId: 'app/promoted' }));

    expect(primary.ReplicationStatus).toBeUndefined();
    expect(eastValue.SecretString).toBe(FIRST);
  });

  it('fails only the region a fault is scoped to', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/scoped', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    lsm.setFaults({ outage: true }, 'us-east-1');

    const fromWest = await west.send(new GetSecretValueCommand({ SecretId: 'app/scoped' }));

    await expect(east.send(new GetSecretValueCommand({ SecretId: 'app/scoped' }))).rejects.toMatchObject({ name: 'InternalServiceError' });
    expect(fromWest.SecretString).toBe(FIRST);
    expect(lsm.faults('us-east-1').outage).toBe(true);
    expect(lsm.faults().outage).toBe(false);
  });

  it('applies a fault set without a region to every region', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/everywhere', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    lsm.setFaults({ throttle: true });

    await expect(west.send(new GetSecretValueCommand({ SecretId: 'app/everywhere' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(east.send(new GetSecretValueCommand({ SecretId: 'app/everywhere' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('scopes faults over HTTP with ?region= on PUT, GET and DELETE', async () => {
    const put = await fetch(`${lsm.url}/_local/faults?region=us-east-1`, { method: 'PUT', body: JSON.stringify({ hang: true }) });
    const scoped = await fetch(`${lsm.url}/_local/faults?region=us-east-1`);
    const everywhere = await fetch(`${lsm.url}/_local/faults`);
    const westCounts = await fetch(`${lsm.url}/_local/counts?region=us-west-2`);
    const deleted = await fetch(`${lsm.url}/_local/faults?region=us-east-1`, { method: 'DELETE' });
    const bad = await fetch(`${lsm.url}/_local/faults?region=not a region`, { method: 'PUT', body: '{}' });

    expect(put.status).toBe(200);
    expect(((await scoped.json()) as { hang: boolean }).hang).toBe(true);
    expect(((await everywhere.json()) as { hang: boolean }).hang).toBe(false);
    expect(await westCounts.json()).toEqual({});
    expect(deleted.status).toBe(204);
    expect(lsm.faults('us-east-1').hang).toBe(false);
    expect(bad.status).toBe(400);
  });

  it('refuses to delete a primary that still has replicas', async () => {
    await east.send(new CreateSecretCommand({ Name: 'app/held', SecretString: FIRST, AddReplicaRegions: [{ Region: 'us-west-2' }] }));

    await expect(east.send(new DeleteSecretCommand({ SecretId: 'app/held', ForceDeleteWithoutRecovery: true }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });
});
