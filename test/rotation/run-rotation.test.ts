import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { adminTokenRotation } from '../../src/rotation/admin-token.js';
import type { RotationModule } from '../../src/rotation/rotation-module.js';
import { runRotation } from '../../src/rotation/run-rotation.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
// The switch stamp (grace from the switch) is asserted in rotation-steps.test.ts; here only the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../src/engine/source.js';

const T0 = 'canary-run-rotation-original-R4t5';
let n = 0;

const lsm = useLocalAws();

async function newSecret() {
  const secretId = `run-rotation/${++n}/admin-token`;
  const out = await localClient(lsm).send(new CreateSecretCommand({ Name: secretId, SecretString: T0 }));
  return { secretId, original: out.VersionId! };
}

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const versions = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()]));
}

/** The admin token's module, recording each step it is asked to run. */
function recorded(events: string[]): RotationModule<object> {
  return {
    ...adminTokenRotation,
    setSecret: async (ctx) => {
      events.push(`setSecret ${ctx.pending.versionId}`);
    },
    testSecret: async (ctx) => {
      events.push(`testSecret ${ctx.pending.versionId}`);
      await adminTokenRotation.testSecret(ctx);
    },
  };
}

describe('runRotation', () => {
  it('runs the four steps in order, hands the pending value over before setSecret, and leaves AWSPENDING only where it was', async () => {
    const { secretId, original } = await newSecret();
    const versionId = randomUUID();
    const events: string[] = [];
    let handed = '';

    const outcome = await runRotation({
      module: recorded(events),
      client: localClient(lsm),
      secretId,
      versionId,
      deps: {},
      mode: 'immediate',
      onStep: (step) => events.push(step),
      onPending: async (pending, info) => {
        handed = pending.value;
        events.push(`onPending ${pending.versionId} ${JSON.stringify(info)}`);
      },
    });

    expect(events).toEqual([
      'createSecret',
      `onPending ${versionId} {"created":true,"alreadyCurrent":false}`,
      `setSecret ${versionId}`,
      'setSecret',
      `testSecret ${versionId}`,
      'testSecret',
      'finishSecret',
    ]);
    expect(outcome).toEqual({ toVersionId: versionId, fromVersionId: original, created: true, alreadyCurrent: false, replaced: { versionId: original, value: T0 } });
    expect(handed).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(await stagesOf(secretId)).toEqual({ [versionId]: ['AWSCURRENT', 'ROTATION_IMMEDIATE'], [original]: ['AWSPREVIOUS'] });
  });

  it('finds a finished rotation on a re-run: hands the value over again, runs no step at the resource, and says what it replaced', async () => {
    const { secretId, original } = await newSecret();
    const versionId = randomUUID();
    const input = { module: adminTokenRotation, client: localClient(lsm), secretId, versionId, deps: {}, mode: 'graceful' as const };
    await runRotation(input);
    // Without a hand-over to make, a re-run finds it finished all the same.
    await expect(runRotation(input)).resolves.toMatchObject({ alreadyCurrent: true });
    const events: string[] = [];

    const again = await runRotation({ ...input, module: recorded(events), onStep: (step) => events.push(step), onPending: async (_p, info) => void events.push(`onPending ${JSON.stringify(info)}`) });

    expect(events).toEqual(['createSecret', 'onPending {"created":false,"alreadyCurrent":true}']);
    expect(again).toEqual({ toVersionId: versionId, fromVersionId: undefined, created: false, alreadyCurrent: true, replaced: { versionId: original, value: T0 } });
    expect(await stagesOf(secretId)).toEqual({ [versionId]: ['AWSCURRENT'], [original]: ['AWSPREVIOUS'] });
  });

  it('stops before setSecret when the hand-over fails, leaving the pending version to resume', async () => {
    const { secretId, original } = await newSecret();
    const versionId = randomUUID();
    const events: string[] = [];

    const failure = await runRotation({
      module: recorded(events),
      client: localClient(lsm),
      secretId,
      versionId,
      deps: {},
      mode: 'graceful',
      onPending: async () => {
        throw new Error('disk full');
      },
    }).catch((e: unknown) => e);

    expect((failure as Error).message).toBe('disk full');
    expect(events).toEqual([]);
    expect(await stagesOf(secretId)).toEqual({ [versionId]: ['AWSPENDING'], [original]: ['AWSCURRENT'] });
  });
});
