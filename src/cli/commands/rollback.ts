import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError, errorCode } from '../../engine/index.js';
import { AWSCURRENT, AWSPENDING, isBeingSet, moveStage, readValue, readVersions, ROLLED_BACK, RotationError, ROTATION_IMMEDIATE, runRotation, settingStage, type FinishMode, type RotationModule, type VersionValue } from '../../rotation/index.js';
import { readAdminToken } from '../admin-token.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';
import { notifyRefresh, pushRefreshNotice, type Notified } from '../notify-refresh.js';
import { planCredentialRollback, type CredentialRollback } from '../credential-rollback.js';
import { cliRotationKind, cliRotationKinds, type CliRotationKind } from '../rotation-kinds.js';
import { cliErrorOf } from '../rotation-failure.js';
import { replicaWriteRefusal } from '../replication.js';
import { appendRotationLog, rotationLogPath } from '../rotation-log.js';
import { defaultTokenPath } from '../token-file.js';

export interface RollbackPlan {
  /** `cancel`: an unfinished rotation's pending version loses AWSPENDING; AWSCURRENT stays. */
  readonly action: 'rollback' | 'cancel';
  /** rollback: the current version; cancel: the pending one. */
  readonly fromVersionId: string;
  /** rollback: the AWSPREVIOUS version made current; cancel: the current version, unchanged. */
  readonly toVersionId: string;
  /** The version to restore is the one an earlier rollback moved away from (it carries ROLLED_BACK). */
  readonly undoesRollback: boolean;
  readonly immediateHolder: string | undefined;
  readonly rolledBackHolder: string | undefined;
  readonly pendingOnCurrent: boolean;
}

/**
 * What `rollback` would do. An unfinished rotation (a version under AWSPENDING that is not
 * AWSCURRENT) is what an operator undoes first: it is cancelled and AWSCURRENT is left alone.
 * Otherwise AWSCURRENT goes back to AWSPREVIOUS.
 */
export async function planRollback(client: SecretsManagerClient, secretId: string): Promise<RollbackPlan> {
  const versions = await readVersions(client, secretId);
  const current = versions.current?.versionId;
  if (current === undefined) throw new CliError('NOT_FOUND', `${secretId} has no AWSCURRENT version`);
  const immediateHolder = versions.holderOf(ROTATION_IMMEDIATE)?.versionId;
  const rolledBackHolder = versions.holderOf(ROLLED_BACK)?.versionId;
  const pendingOnCurrent = versions.current!.stages.includes(AWSPENDING);
  if (versions.unfinished !== undefined) {
    return { action: 'cancel', fromVersionId: versions.unfinished.versionId, toVersionId: current, undoesRollback: false, immediateHolder, rolledBackHolder, pendingOnCurrent };
  }
  const previous = versions.previous;
  if (previous === undefined) throw new CliError('CONFLICT', `${secretId} has no AWSPREVIOUS version to roll back to; nothing changed`);
  return { action: 'rollback', fromVersionId: current, toVersionId: previous.versionId, undoesRollback: previous.stages.includes(ROLLED_BACK), immediateHolder, rolledBackHolder, pendingOnCurrent };
}

/**
 * Carries a plan out; every label move names the version it takes the label from, so of two
 * concurrent rollbacks exactly one wins and the other changes nothing. `immediate` moves
 * ROTATION_IMMEDIATE onto the restored version first (harmless before the switch: that version is
 * the one being trusted), so the engine refuses the rolled-away-from token as soon as an instance
 * refreshes; `graceful` removes the label, leaving that token accepted for the grace window.
 * Returns warnings for what failed after AWSCURRENT moved.
 */
export async function rollback(client: SecretsManagerClient, secretId: string, plan: RollbackPlan, mode: FinishMode): Promise<string[]> {
  const { fromVersionId: from, toVersionId: to, immediateHolder } = plan;
  try {
    if (plan.action === 'cancel') {
      await moveStage(client, secretId, AWSPENDING, { to: undefined, from });
      // The rotation may have made its version current after this plan was read, its AWSPENDING
      // still on it (Secrets Manager takes it off after the function's finish; the CLI right after
      // its own): then nothing was cancelled, and saying so is the only honest answer.
      if ((await readVersions(client, secretId)).current?.versionId === from) {
        throw new CliError('CONFLICT', `The rotation of ${secretId} to version ${from} finished before the cancel reached it: AWSCURRENT is ${from}, nothing was cancelled. Rolling back again rolls it back`);
      }
      // An immediate rotation that stopped before its switch took the label off the current
      // version: put it back, in the direction that refuses more rather than less.
      if (immediateHolder === from) await moveStage(client, secretId, ROTATION_IMMEDIATE, { to, from });
      return [];
    }
    // AWS may leave AWSPENDING on the version it made current; rolled away from, it would look unfinished.
    if (plan.pendingOnCurrent) await moveStage(client, secretId, AWSPENDING, { to: undefined, from });
    await moveStage(client, secretId, ROTATION_IMMEDIATE, { to: mode === 'immediate' ? to : undefined, from: immediateHolder });
    await moveStage(client, secretId, AWSCURRENT, { to, from });
  } catch (err) {
    if (classifyAwsError(err).code === 'InvalidParameterException') {
      throw new CliError('CONFLICT', `${secretId} changed while rolling back (another rotation or rollback won); AWSCURRENT was not moved here. Check with: secrets status`, { cause: err });
    }
    throw cliErrorOf(err, secretId);
  }
  return labelRolledBack(client, secretId, plan, to);
}

/**
 * Cancels an unfinished rotation of a database or Redis password only while AWSCURRENT's password
 * logs in: checked again right before the cancel (the rotation may have set its password at the
 * server while the operator was asked), and after it, since the rotation's setSecret may land
 * between that check and the cancel. Found taken after the cancel, the claim is given back to the
 * rotation's version (the move Secrets Manager refuses if anyone else claimed meanwhile), so the
 * rotation can be finished: a cancel never leaves AWSCURRENT on a password the server refuses.
 */
async function cancelCredentialRotation(client: SecretsManagerClient, secretId: string, kind: CliRotationKind<unknown>, deps: unknown, plan: RollbackPlan, mode: FinishMode): Promise<string[]> {
  const currentLogsIn = async () => {
    const current = await readValue(client, secretId, { stage: AWSCURRENT });
    return current !== undefined && (await kind.module.logsIn!(deps, secretId, current.value));
  };
  // The rotation marks its version before its last claim check and then sets the password (see
  // requireClaimToSet); this takes the claim first and then looks for the mark, so a rotation
  // that passed its check is always seen.
  const beingSet = async () => isBeingSet(await readVersions(client, secretId), plan.fromVersionId);
  const finishIt = `finish it instead: secrets rotate ${kind.module.kind}`;
  let why: string;
  try {
    if (await beingSet()) {
      throw new CliError('CONFLICT', `Cannot cancel the unfinished rotation of ${secretId}: it began setting version ${plan.fromVersionId}'s password at the server (the version carries ${settingStage(plan.fromVersionId)}); ${finishIt}. Nothing changed`);
    }
    if (!(await currentLogsIn())) {
      throw new CliError('CONFLICT', `Cannot cancel the unfinished rotation of ${secretId}: the server took version ${plan.fromVersionId}'s password while you were asked, so AWSCURRENT's no longer logs in; ${finishIt}. Nothing changed`);
    }
    const warnings = await rollback(client, secretId, plan, mode);
    if (await beingSet()) why = `began setting version ${plan.fromVersionId}'s password at the server as the cancel landed`;
    else if (!(await currentLogsIn())) why = `set version ${plan.fromVersionId}'s password at the server as the cancel landed, so AWSCURRENT's no longer logs in`;
    else return warnings;
    await moveStage(client, secretId, AWSPENDING, { to: plan.fromVersionId, from: undefined });
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
  throw new CliError('CONFLICT', `The rotation of ${secretId} ${why}: the cancel is undone (version ${plan.fromVersionId} holds AWSPENDING again); ${finishIt}`);
}

/** ROLLED_BACK onto the version rolled away from; a failure only warns (AWSCURRENT has moved). */
async function labelRolledBack(client: SecretsManagerClient, secretId: string, plan: RollbackPlan, restoredTo: string): Promise<string[]> {
  try {
    await moveStage(client, secretId, ROLLED_BACK, { to: plan.fromVersionId, from: plan.rolledBackHolder });
    return [];
  } catch (err) {
    return [`the rollback is committed (AWSCURRENT of ${secretId} is now ${restoredTo}); could not label version ${plan.fromVersionId} ${ROLLED_BACK} (${classifyAwsError(err).code}), so rolling back again will not be noticed`];
  }
}

/**
 * A same-user rollback (single-user database password, Redis) changes the server, so it runs as
 * a rotation whose new value is the previous version's: a new version holding that password is
 * claimed (AWSPENDING, arbitrated by Secrets Manager), the password is set back at the server
 * only while the claim holds, and AWSCURRENT moves naming the version it moves from. A rotation
 * running at the same time either holds the claim (this stops before any effect) or loses it
 * (it stops before its own); stopped half way, the rollback is an unfinished rotation that
 * `secrets rotate` finishes, or `secrets rollback` cancels while AWSCURRENT still logs in.
 */
async function rollBackSameUser(input: {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly kind: CliRotationKind<unknown>;
  readonly deps: unknown;
  readonly plan: RollbackPlan;
  readonly mode: FinishMode;
  readonly previous: VersionValue;
  readonly now: () => number;
}): Promise<{ readonly versionId: string; readonly warnings: string[] }> {
  const { client, secretId, kind, deps, plan, mode, previous, now } = input;
  const versionId = randomUUID();
  const module: RotationModule<unknown> = { ...kind.module, newValue: async () => previous.value };
  let setBack = false;
  try {
    await runRotation({ module, client, secretId, versionId, deps, mode, now, onStep: (step) => (setBack ||= step === 'setSecret') });
  } catch (err) {
    const base = cliErrorOf(err, secretId);
    if (base.code === 'CONFLICT' && setBack) throw await passwordSetButNotSwitched(client, secretId, kind, deps, plan, base);
    const where = setBack
      ? `; the role's password is set back, the labels are not: finish with secrets rotate ${kind.module.kind} (it resumes version ${versionId})`
      : err instanceof RotationError && err.code === 'ROTATION_IN_PROGRESS'
        ? ''
        : `; version ${versionId} may be pending: secrets rotate ${kind.module.kind} finishes it, secrets rollback ${kind.module.kind} cancels it`;
    throw new CliError(base.code, `${base.message}${where}`, { cause: err });
  }
  return { versionId, warnings: await labelRolledBack(client, secretId, plan, versionId) };
}

/**
 * Read again after the operator confirmed: a rotation, a cancel or another rollback that moved a
 * label while the question was open makes the confirmed plan stale, and a stale plan's label
 * moves (ROTATION_IMMEDIATE, AWSPENDING) would land on a state nobody was asked about. Nothing
 * has changed yet when this refuses.
 */
async function samePlanStill(client: SecretsManagerClient, secretId: string, plan: RollbackPlan): Promise<void> {
  let now: RollbackPlan;
  try {
    now = await planRollback(client, secretId);
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
  const keys = Object.keys(plan) as (keyof RollbackPlan)[];
  const changed = keys.filter((k) => plan[k] !== now[k]);
  if (changed.length === 0) return;
  throw new CliError(
    'CONFLICT',
    `The labels of ${secretId} changed while you confirmed (${now.action === 'cancel' ? `version ${now.fromVersionId} is now pending` : `AWSCURRENT is now ${now.fromVersionId}`}; another rotation or rollback): nothing changed. Run secrets rollback again to see what it would do now`,
  );
}

/**
 * A same-user rollback whose label move lost to a rotation or another rollback after it had set
 * the role's password back: the server may now refuse the password AWSCURRENT holds. Says which,
 * and how to repair (rotate finishes onto the version whose password logs in).
 */
async function passwordSetButNotSwitched(client: SecretsManagerClient, secretId: string, kind: CliRotationKind<unknown>, deps: unknown, plan: RollbackPlan, err: CliError): Promise<CliError> {
  const current = await readValue(client, secretId, { stage: AWSCURRENT }).catch(() => undefined);
  const logsIn = current === undefined ? undefined : await kind.module.logsIn!(deps, secretId, current.value).catch(() => undefined);
  const state =
    logsIn === true
      ? `AWSCURRENT (${current!.versionId}) still logs in`
      : `the server ${logsIn === false ? 'no longer takes' : 'may no longer take'} AWSCURRENT's password${current === undefined ? '' : ` (version ${current.versionId})`}: repair it with secrets rotate ${kind.module.kind}, which finishes onto the version whose password logs in`;
  return new CliError('CONFLICT', `${err.message}. The role's password had already been set back to version ${plan.toVersionId}'s; ${state}`, { cause: err });
}

/** `secrets rollback <kind>`. */
/** Writes stay in the primary region: a write refused because the region holds a replica names the primary. */
export async function rollbackCommand(ctx: CommandContext): Promise<number> {
  try {
    return await rollbackCommandInRegion(ctx);
  } catch (err) {
    if (!(err instanceof CliError) || err.code === 'USAGE' || err.code === 'CANCELLED') throw err;
    const secretId = ctx.catalog.entry(cliRotationKind(ctx.secretArg(cliRotationKinds((k) => k.rollback))).module.secretName)!.awsId;
    throw (await replicaWriteRefusal(ctx.deps.secretsManager(ctx.globals.aws), err, secretId, ctx.region)) ?? err;
  }
}

async function rollbackCommandInRegion(ctx: CommandContext): Promise<number> {
  const { deps, globals, options, catalog } = ctx;
  const kind = cliRotationKind(ctx.secretArg(cliRotationKinds((k) => k.rollback)));
  const secretId = catalog.entry(kind.module.secretName)!.awsId;
  if (options.strategy !== undefined) throw new CliError('USAGE', 'rollback is immediate unless --graceful; it takes no --strategy');
  const mode: FinishMode = options.graceful ? 'graceful' : 'immediate';
  const client = deps.secretsManager(globals.aws);
  let plan: RollbackPlan;
  try {
    plan = await planRollback(client, secretId);
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
  if (plan.undoesRollback && !options.force) {
    throw new CliError(
      'CONFLICT',
      `${secretId} was already rolled back from version ${plan.toVersionId} (it carries ${ROLLED_BACK}): rolling back again would make it current again. If instances still accept it, they have not refreshed: POST /admin/refresh-secrets on the service (or wait for the cache TTL). To switch back to it anyway: --force. Nothing changed`,
    );
  }
  // Database and Redis passwords: decided before asking, and built (connections, master secret) before too.
  const built = kind.module.logsIn === undefined ? undefined : await buildCredentialDeps(ctx, kind, client, secretId);
  let warnings: string[];
  // The version made current: AWSPREVIOUS, or for the same user a new version holding its password (see rollBackSameUser).
  let restoredTo = plan.toVersionId;
  try {
    const credential = built === undefined ? undefined : await credentialPlan(client, secretId, kind, built.deps, plan);
    const effect =
      credential === undefined
        ? mode === 'immediate'
          ? `The token of ${plan.fromVersionId} is refused as soon as instances refresh.`
          : `The token of ${plan.fromVersionId} stays accepted for the grace window.`
        : credential.action === 'set-then-switch'
          ? `The password of version ${plan.toVersionId} is set back at the server first; new logins with the one rolled away from are refused once it is.`
          : 'The previous role still logs in; only the labels move.';
    const question =
      plan.action === 'cancel'
        ? `Cancel the unfinished rotation of ${secretId} (version ${plan.fromVersionId}, never current)? AWSCURRENT stays ${plan.toVersionId}.`
        : `Roll back ${secretId} (${mode}): AWSCURRENT ${plan.fromVersionId} -> ${plan.toVersionId}? ${effect}`;
    if (!options.yes && !(await deps.confirm(question))) throw new CliError('CANCELLED', 'Rollback cancelled; nothing changed');
    await samePlanStill(client, secretId, plan);

    if (credential?.action === 'set-then-switch') {
      const restored = await rollBackSameUser({ client, secretId, kind, deps: built!.deps, plan, mode, previous: credential.previous, now: deps.now });
      restoredTo = restored.versionId;
      warnings = restored.warnings;
    } else if (credential?.action === 'cancel') {
      warnings = await cancelCredentialRotation(client, secretId, kind, built!.deps, plan, mode);
    } else {
      warnings = await rollback(client, secretId, plan, mode);
    }
  } finally {
    await built?.close();
  }
  const committed = plan.action === 'cancel' ? `the rotation to ${plan.fromVersionId} is cancelled` : `the rollback is committed (AWSCURRENT of ${secretId} is now ${restoredTo})`;
  const logPath = resolve(deps.cwd, options['rotation-log'] ?? rotationLogPath(kind.module.kind));
  try {
    await appendRotationLog(logPath, {
      at: new Date(deps.now()).toISOString(),
      action: plan.action,
      secretId,
      fromVersionId: plan.fromVersionId,
      toVersionId: restoredTo,
      ...(restoredTo !== plan.toVersionId && { restoredFromVersionId: plan.toVersionId }),
      ...(plan.action === 'rollback' && { strategy: mode }),
      caller: await deps.callerArn(globals.aws),
    });
  } catch (err) {
    warnings.push(`${committed}; could not append to ${logPath} (${errorCode(err)})`);
  }
  // Credentials: instances holding the password rolled away from learn of the move at once, as after a rotation.
  const announce = plan.action === 'rollback' && kind.announce === true;
  const receivers = announce ? await pushRefreshNotice(ctx, { client, secretId, name: kind.module.secretName, versionId: restoredTo, reason: `rolled back ${secretId}` }, warnings, committed) : undefined;
  let notified: Notified[] = [];
  if (plan.action === 'rollback' && (options.notify ?? []).length > 0) {
    try {
      // Until they refresh, instances hold the version rolled away from as current: for the admin token, it authenticates the notice.
      const token = kind.module.secretName === 'ADMIN_TOKEN' ? (await readValue(client, secretId, { versionId: plan.fromVersionId }))?.value : await readAdminToken(client, catalog);
      notified = await notifyRefresh(options.notify ?? [], token, [kind.module.secretName], deps);
    } catch (err) {
      warnings.push(`${committed}; could not read the admin token to notify instances (${cliErrorOf(err, secretId).code})`);
    }
  }
  for (const n of notified.filter((x) => !x.ok)) warnings.push(`${committed}; ${n.url} did not refresh (HTTP ${n.status || 'unreachable'})`);
  for (const w of warnings) deps.stderr(`warning: ${w}\n`);

  const refreshed = notified.length > 0 && notified.every((n) => n.ok);
  const nextSteps =
    plan.action === 'rollback'
      ? refreshed
        ? []
        : await refreshAdvice(ctx, kind.module.kind, kind.module.secretName, plan.fromVersionId)
      : await cancelledFileAdvice(ctx, kind.module.kind, plan.fromVersionId);
  const head =
    plan.action === 'cancel'
      ? `Cancelled the unfinished rotation of ${secretId}: version ${plan.fromVersionId} is no longer AWSPENDING; AWSCURRENT stays ${plan.toVersionId}`
      : `Rolled back ${secretId} (${mode}): AWSCURRENT ${plan.fromVersionId} -> ${restoredTo}${restoredTo === plan.toVersionId ? '' : ` (version ${plan.toVersionId}'s password, set back at the server)`}`;
  ctx.out(
    {
      secretId,
      action: plan.action,
      strategy: mode,
      fromVersionId: plan.fromVersionId,
      toVersionId: restoredTo,
      ...(restoredTo !== plan.toVersionId && { restoredFromVersionId: plan.toVersionId }),
      ...(announce && { refreshNoticeReceivers: receivers ?? null }),
      notified,
      refreshed,
      nextSteps,
      warnings,
    },
    [head, ...(receivers !== undefined ? [`Published a refresh notice on Redis (${receivers} listening)`] : []), ...notified.map((n) => `Notified ${n.url}: ${n.ok ? 'refreshed' : `failed (HTTP ${n.status || 'unreachable'})`}`), ...nextSteps, ''].join('\n'),
  );
  return EXIT_CODES.OK;
}

async function buildCredentialDeps(ctx: CommandContext, kind: CliRotationKind<unknown>, client: SecretsManagerClient, secretId: string) {
  try {
    return await kind.deps(ctx, client);
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
}

async function credentialPlan(client: SecretsManagerClient, secretId: string, kind: CliRotationKind<unknown>, moduleDeps: unknown, plan: RollbackPlan): Promise<CredentialRollback> {
  const userOf = kind.userOf ?? (() => '');
  try {
    return await planCredentialRollback(client, secretId, kind.module, moduleDeps, plan, (a, b) => userOf(a, secretId) === userOf(b, secretId));
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
}

/** A cancelled version's token was never current: its default token file can go. */
async function cancelledFileAdvice(ctx: CommandContext, kind: string, versionId: string): Promise<string[]> {
  const file = defaultTokenPath(ctx.deps.cwd, kind, versionId);
  return (await exists(file)) ? [`The token in ${file} belongs to the cancelled version and was never current: delete it securely.`] : [];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * What to do when no instance confirmed a refresh: they serve the rolled-away-from version
 * until they do. For the admin token, that token is the one they accept for the notice.
 */
async function refreshAdvice(ctx: CommandContext, kind: string, secretName: string, fromVersionId: string): Promise<string[]> {
  let auth = 'the current admin token';
  if (secretName === 'ADMIN_TOKEN') {
    const file = defaultTokenPath(ctx.deps.cwd, kind, fromVersionId);
    const saved = await exists(file);
    auth = `the token of version ${fromVersionId} (instances accept it until they refresh${saved ? `; it is in ${file}` : ''})`;
  }
  return [
    `Instances keep using version ${fromVersionId} until they refresh (at the latest when their cache expires). Refresh them now: POST <service>/admin/refresh-secrets with header x-admin-token set to ${auth}; one instance tells the others. Or pass --notify URL to rollback.`,
    ...(secretName === 'ADMIN_TOKEN' ? ['Then check: secrets verify admin-token --url <service>'] : []),
  ];
}
