import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, ListSecretVersionIdsCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { adminTokenRotation } from '../../src/rotation/admin-token.js';
import { candidateStage, putCandidate, requireClaim, takeClaim } from '../../src/rotation/rotation-claim.js';
import { createSecret, finishSecret } from '../../src/rotation/rotation-steps.js';
import { localClient } from '../support/local-aws.js';
// The switch stamp (grace from the switch) is asserted in rotation-steps.test.ts; here only the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../src/engine/source.js';

let lsm: LocalSecretsManager;
let n = 0;

beforeAll(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterAll(async () => {
  await lsm.close();
});

async function newSecret(): Promise<string> {
  const secretId = `claim/${++n}/admin-token`;
  await localClient(lsm).send(new CreateSecretCommand({ Name: secretId, SecretString: 'canary-claim-current-K8j7H6g5' }));
  return secretId;
}

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const versions = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()]));
}

const ctxFor = (secretId: string, versionId = randomUUID()) => ({ client: localClient(lsm), secretId, versionId, deps: {} });

describe('the rotation claim', () => {
  it('of two rotations started at once, exactly one holds AWSPENDING; the other is refused naming it and keeps no label', async () => {
    const secretId = await newSecret();
    const a = ctxFor(secretId);
    const b = ctxFor(secretId);

    const results = await Promise.allSettled([createSecret(adminTokenRotation, a), createSecret(adminTokenRotation, b)]);

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = results[0]!.status === 'fulfilled' ? a.versionId : b.versionId;
    const loser = winner === a.versionId ? b.versionId : a.versionId;
    expect(lost[0]!.reason).toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: winner });
    const stages = await stagesOf(secretId);
    expect(stages[winner]).toEqual(['AWSPENDING']);
    expect(stages[loser] ?? []).toEqual([]);
  });

  it('refuses a new rotation while one is pending, and puts nothing (the pending one keeps its claim)', async () => {
    const secretId = await newSecret();
    const a = ctxFor(secretId);
    await createSecret(adminTokenRotation, a);
    const before = await stagesOf(secretId);

    await expect(createSecret(adminTokenRotation, ctxFor(secretId))).rejects.toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: a.versionId });

    expect(await stagesOf(secretId)).toEqual(before);
  });

  it('takes the AWSPENDING a finished rotation left on the current version before claiming', async () => {
    const secretId = await newSecret();
    const a = ctxFor(secretId);
    await createSecret(adminTokenRotation, a);
    await finishSecret(a, 'graceful');
    expect((await stagesOf(secretId))[a.versionId]).toContain('AWSPENDING');
    const b = ctxFor(secretId);

    await createSecret(adminTokenRotation, b);

    const stages = await stagesOf(secretId);
    expect(stages[b.versionId]).toEqual(['AWSPENDING']);
    expect(stages[a.versionId]).toEqual(['AWSCURRENT']);
  });

  it('resumes a version put under its candidate label by a run that stopped before claiming', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await putCandidate(ctx.client, secretId, ctx.versionId, 'canary-claim-orphan-Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7');
    expect((await stagesOf(secretId))[ctx.versionId]).toEqual([candidateStage(ctx.versionId)]);

    const resumed = await createSecret(adminTokenRotation, ctx);

    expect(resumed.created).toBe(false);
    expect((await stagesOf(secretId))[ctx.versionId]).toEqual(['AWSPENDING']);
  });

  it('requireClaim names the holder once the claim moved on, and says so when nobody holds it', async () => {
    const secretId = await newSecret();
    const a = ctxFor(secretId);
    await createSecret(adminTokenRotation, a);
    expect(await requireClaim(a.client, secretId, a.versionId, 'setSecret')).toBe('pending');
    // A rollback cancels a; b claims.
    await localClient(lsm).send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: a.versionId }));
    await expect(requireClaim(a.client, secretId, a.versionId, 'setSecret')).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING', claimHolder: null });
    const b = ctxFor(secretId);
    await createSecret(adminTokenRotation, b);

    await expect(requireClaim(a.client, secretId, a.versionId, 'setSecret')).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING', claimHolder: b.versionId });
    await expect(createSecret(adminTokenRotation, a)).rejects.toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: b.versionId });
    await finishSecret(b, 'graceful');
    expect(await requireClaim(b.client, secretId, b.versionId, 'finishing')).toBe('current');
  });

  it('is refused by Secrets Manager itself: moving AWSPENDING without RemoveFromVersionId while another version holds it', async () => {
    const secretId = await newSecret();
    const a = ctxFor(secretId);
    await createSecret(adminTokenRotation, a);
    const b = ctxFor(secretId);
    await putCandidate(b.client, secretId, b.versionId, 'canary-claim-other-Z1x2C3v4B5n6M7q8W9e0R1t2Y3u4I5o6');

    await expect(takeClaim(b.client, secretId, b.versionId)).rejects.toMatchObject({ code: 'ROTATION_IN_PROGRESS', claimHolder: a.versionId });
    await expect(
      localClient(lsm).send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', MoveToVersionId: b.versionId })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect((await stagesOf(secretId))[a.versionId]).toEqual(['AWSPENDING']);
  });
});
