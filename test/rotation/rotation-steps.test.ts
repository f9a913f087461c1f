import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startLocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { RotationError } from '../../src/rotation/errors.js';
import type { RotationModule } from '../../src/rotation/rotation-module.js';
import { createSecret, dropPendingLabel, finishSecret, setSecret, testSecret } from '../../src/rotation/rotation-steps.js';
import { adminTokenRotation } from '../../src/rotation/admin-token.js';
import { defineCatalog } from '../../src/engine/catalog.js';
import { createAwsSource } from '../../src/engine/aws-source.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { text } from '../../src/engine/value-kinds.js';
import { FakeClock } from '../support/fake-clock.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { crashError, injectFaults } from './support/faulty-client.js';
// The switch stamp (grace from the switch) is asserted below; the other tests look at the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../src/engine/source.js';

let n = 0;

const lsm = useLocalAws();

async function newSecret(value = 'canary-steps-current-A1s2') {
  const secretId = `steps/${++n}/admin-token`;
  await localClient(lsm).send(new CreateSecretCommand({ Name: secretId, SecretString: value }));
  return secretId;
}

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const versions = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  return Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()]));
}

const ctxFor = (secretId: string, versionId = randomUUID(), client = localClient(lsm)) => ({ client, secretId, versionId, deps: {} });

describe('createSecret', () => {
  it('stores a new value under AWSPENDING with the rotation token as its version id, once however often it runs', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);

    const first = await createSecret(adminTokenRotation, ctx);
    const again = await createSecret(adminTokenRotation, ctx);

    expect(first.created).toBe(true);
    expect(again).toEqual({ ...first, created: false });
    expect(first.pending.versionId).toBe(ctx.versionId);
    const stages = await stagesOf(secretId);
    expect(stages[ctx.versionId]).toEqual(['AWSPENDING']);
    expect(Object.values(stages).filter((s) => s.includes('AWSCURRENT'))).toHaveLength(1);
  });

  it('sends the put again with the same token when the first answer is lost, and ends with one version', async () => {
    const secretId = await newSecret();
    const client = localClient(lsm);
    let lost = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'PutSecretValueCommand' && !lost) {
          lost = true;
          throw Object.assign(new Error('answer lost'), { name: 'TimeoutError' });
        }
        return out;
      },
      { step: 'initialize' },
    );
    const ctx = ctxFor(secretId, randomUUID(), client);

    const created = await createSecret(adminTokenRotation, ctx);

    expect(lost).toBe(true);
    expect(created.created).toBe(true);
    expect(Object.keys(await stagesOf(secretId))).toHaveLength(2);
    const stored = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: secretId, VersionId: ctx.versionId }));
    expect(stored.SecretString).toBe(created.pending.value);
  });

  it('says the outcome is unknown when neither put gets a clear answer', async () => {
    const secretId = await newSecret();
    const client = localClient(lsm);
    injectFaults(client, { crashAt: 3, mode: 'after' });

    const failure = await createSecret(adminTokenRotation, ctxFor(secretId, randomUUID(), client)).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(RotationError);
    expect(failure).toMatchObject({ code: 'ROTATION_OUTCOME_UNKNOWN' });
    expect((failure as Error).message).toMatch(/got no clear answer \(TimeoutError\); it may exist/);
  });

  it('refuses a secret with no current value', async () => {
    const ctx = ctxFor('steps/none/admin-token');
    await expect(createSecret(adminTokenRotation, ctx)).rejects.toMatchObject({ code: 'ROTATION_NO_CURRENT' });
  });
});

describe('finishSecret', () => {
  it('moves AWSCURRENT to the pending version, naming the one it moves from, and leaves AWSPENDING as AWS templates do', async () => {
    const secretId = await newSecret();
    const old = Object.keys(await stagesOf(secretId))[0]!;
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);

    const finished = await finishSecret(ctx, 'graceful');

    expect(finished).toEqual({ fromVersionId: old, alreadyCurrent: false });
    expect(await stagesOf(secretId)).toEqual({ [ctx.versionId]: ['AWSCURRENT', 'AWSPENDING'], [old]: ['AWSPREVIOUS'] });
    expect(await finishSecret(ctx, 'graceful')).toEqual({ fromVersionId: undefined, alreadyCurrent: true });
  });

  it('labels the new current version ROTATION_IMMEDIATE when immediate, taking the label from the version that had it', async () => {
    const secretId = await newSecret();
    const first = ctxFor(secretId);
    await createSecret(adminTokenRotation, first);
    await finishSecret(first, 'immediate');
    const second = ctxFor(secretId);
    await createSecret(adminTokenRotation, second);

    await finishSecret(second, 'immediate');

    const stages = await stagesOf(secretId);
    expect(stages[second.versionId]).toEqual(['AWSCURRENT', 'AWSPENDING', 'ROTATION_IMMEDIATE']);
    expect(stages[first.versionId]).toEqual(['AWSPREVIOUS']);
  });

  it('fails with ROTATION_CONFLICT, moving nothing, when AWSCURRENT moved after it looked', async () => {
    const secretId = await newSecret();
    // Another version AWSCURRENT can be moved to (a rollback's target, say).
    const other = ctxFor(secretId);
    await localClient(lsm).send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: other.versionId, SecretString: 'canary-steps-other-Z9x8', VersionStages: ['OTHER'] }));
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    const client = localClient(lsm);
    const before = await stagesOf(secretId);
    const current = Object.keys(before).find((id) => before[id]!.includes('AWSCURRENT'))!;
    injectFaults(client, {
      // Another rotation finishes between finishSecret's look and its move.
      beforeSend: async (_n, name, input) => {
        if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') {
          await localClient(lsm).send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: other.versionId, RemoveFromVersionId: current }));
        }
      },
    });

    const failure = await finishSecret({ ...ctx, client }, 'graceful').catch((e: unknown) => e);

    expect(failure).toMatchObject({
      code: 'ROTATION_CONFLICT',
      message: `The labels of ${secretId} changed while finishing version ${ctx.versionId} (another rotation or rollback); AWSCURRENT was not moved here`,
    });
    const after = await stagesOf(secretId);
    expect(after[other.versionId]).toContain('AWSCURRENT');
    expect(after[ctx.versionId]).toEqual(['AWSPENDING']);
  });

  it('settles a lost answer by looking: the switch landed, so it is done', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    const client = localClient(lsm);
    let lost = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'UpdateSecretVersionStageCommand' && (args.input as { VersionStage?: string }).VersionStage === 'AWSCURRENT' && !lost) {
          lost = true;
          throw Object.assign(new Error('answer lost'), { name: 'TimeoutError' });
        }
        return out;
      },
      { step: 'initialize' },
    );

    const finished = await finishSecret({ ...ctx, client }, 'graceful');

    expect(lost).toBe(true);
    expect(finished.alreadyCurrent).toBe(false);
    expect((await stagesOf(secretId))[ctx.versionId]).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });

  it('refuses a version that is not under AWSPENDING, also while another rotation is pending', async () => {
    const secretId = await newSecret();
    await expect(finishSecret(ctxFor(secretId), 'graceful')).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING' });
    await createSecret(adminTokenRotation, ctxFor(secretId));
    const before = await stagesOf(secretId);

    await expect(finishSecret(ctxFor(secretId), 'graceful')).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING' });
    expect(await stagesOf(secretId)).toEqual(before);
  });
});

describe('setSecret and testSecret', () => {
  const failing = (err: unknown): RotationModule<object> => ({
    ...adminTokenRotation,
    setSecret: async () => {
      throw err;
    },
    testSecret: async () => {
      throw err;
    },
  });

  it('name the step and the failure code of a module, never its message', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    const leaky = Object.assign(new Error('password authentication failed for canary-steps-leak-Z0'), { code: '28P01' });

    const set = (await setSecret(failing(leaky), ctx).catch((e: unknown) => e)) as RotationError;
    const test = (await testSecret(failing(leaky), ctx).catch((e: unknown) => e)) as RotationError;

    expect(set).toMatchObject({ code: 'ROTATION_SET_FAILED', message: `setSecret failed for version ${ctx.versionId} of ${secretId} (28P01)` });
    expect(test).toMatchObject({ code: 'ROTATION_TEST_FAILED', message: `testSecret failed for version ${ctx.versionId} of ${secretId} (28P01)` });
    expect(`${set.message} ${test.message}`).not.toContain('canary');
  });

  it('need the pending value: setSecret before createSecret is ROTATION_NOT_PENDING', async () => {
    const secretId = await newSecret();
    await expect(setSecret(adminTokenRotation, ctxFor(secretId))).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING' });
  });

  it('testSecret checks the pending token is URL-safe and 64 characters', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    await expect(testSecret(adminTokenRotation, ctx)).resolves.toBeUndefined();

    const odd: RotationModule<object> = { ...adminTokenRotation, newValue: async () => 'canary+steps/odd=' };
    const oddCtx = ctxFor(await newSecret());
    await createSecret(odd, oddCtx);
    const failure = (await testSecret(adminTokenRotation, oddCtx).catch((e: unknown) => e)) as Error;
    expect(failure).toMatchObject({ code: 'ROTATION_TEST_FAILED' });
    expect(failure.message).not.toContain('canary');
  });
});

describe('the steps at their edges', () => {
  const denied = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

  it('createSecret finds a rotation already finished under its token, and makes no version', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    await finishSecret(ctx, 'graceful');
    const client = localClient(lsm);
    const { calls } = injectFaults(client);

    const again = await createSecret(adminTokenRotation, { ...ctx, client });

    expect(again.created).toBe(false);
    expect(again.pending).toEqual(again.current);
    expect(again.current.versionId).toBe(ctx.versionId);
    expect(calls).toEqual(['GetSecretValueCommand']);
  });

  it('createSecret passes a refused put on at once, without sending it again', async () => {
    const secretId = await newSecret();
    const client = localClient(lsm);
    const { calls } = injectFaults(client, {
      beforeSend: async (_n, name) => {
        if (name === 'PutSecretValueCommand') throw denied();
      },
    });

    await expect(createSecret(adminTokenRotation, ctxFor(secretId, randomUUID(), client))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(calls.filter((c) => c === 'PutSecretValueCommand')).toHaveLength(1);
  });

  it('say exactly what is missing: no current value, no pending value, no AWSPENDING label', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);

    await expect(createSecret(adminTokenRotation, ctxFor('steps/none/admin-token'))).rejects.toMatchObject({ message: 'steps/none/admin-token has no AWSCURRENT value to rotate from' });
    const unclaimed = (step: string) =>
      `Version ${ctx.versionId} of ${secretId} does not hold the rotation's claim (AWSPENDING), so ${step} was not done: no version holds it (a rollback cancelled this rotation, or it never started)`;
    await expect(setSecret(adminTokenRotation, ctx)).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING', message: unclaimed('setSecret') });
    await expect(finishSecret(ctx, 'graceful')).rejects.toMatchObject({ code: 'ROTATION_NOT_PENDING', message: unclaimed('finishSecret') });
    const empty = `steps/${++n}/admin-token`;
    await localClient(lsm).send(new CreateSecretCommand({ Name: empty }));
    await expect(finishSecret(ctxFor(empty), 'graceful')).rejects.toMatchObject({ code: 'ROTATION_NO_CURRENT', message: `${empty} has no AWSCURRENT version` });
  });

  it('testSecret without a pending value runs the configuration test against the current value, or only reads it', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    const seen: string[] = [];
    const configured: RotationModule<object> = {
      ...adminTokenRotation,
      testConfiguration: async ({ current }) => {
        seen.push(current.value);
      },
    };
    const broken: RotationModule<object> = {
      ...adminTokenRotation,
      testConfiguration: async () => {
        throw Object.assign(new Error('no route to canary-steps-host'), { code: 'EHOSTUNREACH' });
      },
    };

    await testSecret(configured, ctx);
    await expect(testSecret(adminTokenRotation, ctx)).resolves.toBeUndefined();
    const failure = (await testSecret(broken, ctx).catch((e: unknown) => e)) as RotationError;

    expect(seen).toEqual(['canary-steps-current-A1s2']);
    expect(failure).toMatchObject({ code: 'ROTATION_TEST_FAILED', message: `testSecret failed for version ${ctx.versionId} of ${secretId} (EHOSTUNREACH)` });
  });

  it('a module failure that is already a RotationError passes unchanged', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    const own = new RotationError('ROTATION_BAD_VALUE', 'the module says why');
    const module: RotationModule<object> = {
      ...adminTokenRotation,
      setSecret: async () => {
        throw own;
      },
    };

    await expect(setSecret(module, ctx)).rejects.toBe(own);
  });

  it('finishSecret passes a clear refusal on, and says the outcome is unknown when a lost answer left AWSCURRENT where it was', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    const refusing = localClient(lsm);
    injectFaults(refusing, {
      beforeSend: async (_n, name) => {
        if (name === 'UpdateSecretVersionStageCommand') throw denied();
      },
    });
    const losing = localClient(lsm);
    injectFaults(losing, {
      beforeSend: async (_n, name) => {
        if (name === 'UpdateSecretVersionStageCommand') throw Object.assign(new Error('lost'), { name: 'TimeoutError' });
      },
    });

    await expect(finishSecret({ ...ctx, client: refusing }, 'graceful')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(finishSecret({ ...ctx, client: losing }, 'graceful')).rejects.toMatchObject({
      code: 'ROTATION_OUTCOME_UNKNOWN',
      message: `Finishing version ${ctx.versionId} of ${secretId} got no clear answer (TimeoutError)`,
    });
    expect((await stagesOf(secretId))[ctx.versionId]).toEqual(['AWSPENDING']);
  });

  it('finishSecret puts ROTATION_IMMEDIATE on the new version when no version had it', async () => {
    const secretId = await newSecret();
    const old = Object.keys(await stagesOf(secretId))[0]!;
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);

    await finishSecret(ctx, 'immediate');

    expect(await stagesOf(secretId)).toEqual({ [ctx.versionId]: ['AWSCURRENT', 'AWSPENDING', 'ROTATION_IMMEDIATE'], [old]: ['AWSPREVIOUS'] });
  });

  it('dropPendingLabel takes AWSPENDING off the finished version, a failure to do so is no failure, and the label already gone is told apart', async () => {
    const secretId = await newSecret();
    const ctx = ctxFor(secretId);
    await createSecret(adminTokenRotation, ctx);
    await finishSecret(ctx, 'graceful');
    const refusing = localClient(lsm);
    injectFaults(refusing, { crashAt: 1 });

    await expect(dropPendingLabel({ ...ctx, client: refusing })).resolves.toBe('failed');
    expect((await stagesOf(secretId))[ctx.versionId]).toEqual(['AWSCURRENT', 'AWSPENDING']);
    await expect(dropPendingLabel(ctx)).resolves.toBe('dropped');
    expect((await stagesOf(secretId))[ctx.versionId]).toEqual(['AWSCURRENT']);
    // Already off (a cancel took it): Secrets Manager refuses to remove it from there, and that is told apart.
    await expect(dropPendingLabel(ctx)).resolves.toBe('gone');
  });
});

describe('the grace window of a graceful rotation', () => {
  const HOUR = 3_600_000;
  const OLD = 'canary-grace-old-token-Q1w2E3r4T5y6U7i8O9p0';

  it('starts when AWSCURRENT moves, not when the pending version was created: a rotation finished two hours late keeps the old token for the whole window', async () => {
    const clock = new FakeClock(Date.now());
    const local = await startLocalSecretsManager({ port: 0, clock });
    try {
      const client = localClient(local);
      const catalog = defineCatalog({ ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true } }, { project: 'steps-grace' });
      const secretId = catalog.entry('ADMIN_TOKEN')!.awsId;
      await client.send(new CreateSecretCommand({ Name: secretId, SecretString: OLD }));
      const ctx = ctxFor(secretId, randomUUID(), client);
      await createSecret(adminTokenRotation, ctx);
      await clock.advance(2 * HOUR);
      await finishSecret(ctx, 'graceful', { now: () => clock.now() });
      // A freshly started instance: no memory of when it saw the switch.
      const oldAccepted = async () => {
        const engine = createSecretsEngine({ catalog, source: createAwsSource({ client, region: 'us-east-1', clock }), clock, graceMs: HOUR, autoRefresh: false });
        await engine.initialize();
        const accepted = engine.accepted('ADMIN_TOKEN').includes(OLD);
        engine.close();
        return accepted;
      };

      await clock.advance(HOUR - 60_000);
      expect(await oldAccepted()).toBe(true);
      await clock.advance(60_000);
      expect(await oldAccepted()).toBe(false);
    } finally {
      await local.close();
    }
  });

  it('stamps the switch right before AWSCURRENT moves, stamps again when a stopped finish is resumed, and leaves one stamp on the secret', async () => {
    const secretId = await newSecret();
    const first = ctxFor(secretId);
    await createSecret(adminTokenRotation, first);
    await finishSecret(first, 'graceful', { now: () => 1_000 });
    const second = ctxFor(secretId);
    await createSecret(adminTokenRotation, second);
    // The AWSCURRENT move of the second rotation is refused once: its stamp is taken back.
    const refusing = localClient(lsm);
    injectFaults(refusing, {
      beforeSend: async (_n, name, input) => {
        if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') throw Object.assign(new Error('refused'), { name: 'InvalidParameterException' });
      },
    });
    await expect(finishSecret({ ...second, client: refusing }, 'graceful', { now: () => 2_000 })).rejects.toMatchObject({ code: 'ROTATION_CONFLICT' });
    expect((await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions?.flatMap((v) => v.VersionStages ?? [])).not.toContain('SWITCHED_AT_2000');

    await finishSecret(second, 'graceful', { now: () => 3_000 });

    const all = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
    const stamps = all.flatMap((v) => (v.VersionStages ?? []).filter((s) => s.startsWith(SWITCH_STAGE_PREFIX)).map((s) => [v.VersionId, s]));
    expect(stamps).toEqual([[second.versionId, 'SWITCHED_AT_3000']]);
  });

  it('takes over a stamp of the same millisecond that another version holds, instead of failing as a conflict', async () => {
    const secretId = await newSecret();
    const first = ctxFor(secretId);
    await createSecret(adminTokenRotation, first);
    await finishSecret(first, 'immediate', { now: () => 5_000 });
    const second = ctxFor(secretId);
    await createSecret(adminTokenRotation, second);

    await finishSecret(second, 'immediate', { now: () => 5_000 });

    const all = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
    expect(all.find((v) => v.VersionId === second.versionId)?.VersionStages).toEqual(expect.arrayContaining(['AWSCURRENT', 'SWITCHED_AT_5000']));
  });
});

/**
 * Two runs resuming one rotation both reach finishSecret with the same version: one moves
 * AWSCURRENT, the other's move is refused. Found by the interleaving model (seed -444614658): in
 * the same millisecond their stamps are one label, and the loser took it back, so the switch was
 * read by the version's creation and the old token lost its grace window an hour early.
 */
describe('finishSecret, two runs finishing one version at once', () => {
  it('leaves the winner\'s stamp, and only it, on the new current version, in every order of their calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.constantFrom([7_000, 7_000], [7_000, 7_001], [7_001, 7_000]), async (s, [atA, atB]) => {
        const secretId = await newSecret();
        const ctx = ctxFor(secretId);
        await createSecret(adminTokenRotation, ctx);
        const scheduled = (who: string) => {
          const client = localClient(lsm);
          client.middlewareStack.add(
            (next, context) => async (args) => {
              await s.schedule(Promise.resolve(), `${who}: ${context.commandName ?? ''}`);
              return next(args);
            },
            { step: 'initialize', name: 'stepsScheduler' },
          );
          return client;
        };
        const runs = [
          finishSecret({ ...ctx, client: scheduled('A') }, 'graceful', { now: () => atA }).then(() => atA, () => undefined),
          finishSecret({ ...ctx, client: scheduled('B') }, 'graceful', { now: () => atB }).then(() => atB, () => undefined),
        ];
        const settled = Promise.all(runs);
        await s.waitFor(settled);
        const won = (await settled).filter((at) => at !== undefined);

        const all = (await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
        const stamps = all.flatMap((v) => (v.VersionStages ?? []).filter((st) => st.startsWith(SWITCH_STAGE_PREFIX)).map((st) => [v.VersionId, st]));
        expect(all.find((v) => v.VersionId === ctx.versionId)?.VersionStages).toContain('AWSCURRENT');
        // Both may succeed (the second finds the version current and moves nothing): the switch is the first's.
        expect(won.length).toBeGreaterThan(0);
        expect(stamps).toHaveLength(1);
        expect(won.map((at) => [ctx.versionId, `${SWITCH_STAGE_PREFIX}${at}`])).toContainEqual(stamps[0]);
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * Defect 5 of issue 15: an immediate finish stopped between its two label moves. It used to move
 * ROTATION_IMMEDIATE first, so stopped there the current version lost the label while its
 * AWSPREVIOUS was still the token the previous immediate rotation revoked: a freshly started
 * engine accepted that token again for its grace window.
 */
describe('finishSecret, immediate, stopped between its two label moves', () => {
  it('never leaves a state that re-admits the token an earlier immediate rotation revoked, and a re-run completes it', async () => {
    const secretId = await newSecret();
    const revoked = Object.keys(await stagesOf(secretId))[0]!;
    const second = ctxFor(secretId);
    await createSecret(adminTokenRotation, second);
    await finishSecret(second, 'immediate');
    const third = ctxFor(secretId);
    await createSecret(adminTokenRotation, third);
    const client = localClient(lsm);
    let moves = 0;
    injectFaults(client, {
      beforeSend: async (_n, name) => {
        // The first move is the switch stamp (SWITCHED_AT_), then AWSCURRENT, then ROTATION_IMMEDIATE.
        if (name === 'UpdateSecretVersionStageCommand' && ++moves === 3) throw crashError();
      },
    });

    await expect(finishSecret({ ...third, client }, 'immediate')).rejects.toBeDefined();

    const stopped = await stagesOf(secretId);
    const current = Object.keys(stopped).find((id) => stopped[id]!.includes('AWSCURRENT'))!;
    const previous = Object.keys(stopped).find((id) => stopped[id]!.includes('AWSPREVIOUS'));
    // What a freshly started engine does: it accepts AWSPREVIOUS unless AWSCURRENT carries ROTATION_IMMEDIATE.
    const accepted = stopped[current]!.includes('ROTATION_IMMEDIATE') ? [current] : [current, previous];
    expect(accepted).not.toContain(revoked);

    await finishSecret(third, 'immediate');
    const done = await stagesOf(secretId);
    expect(done[third.versionId]).toEqual(['AWSCURRENT', 'AWSPENDING', 'ROTATION_IMMEDIATE']);
    expect(done[second.versionId]).toEqual(['AWSPREVIOUS']);
  });
});
