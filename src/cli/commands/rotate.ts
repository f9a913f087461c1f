import { resolve } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  applySet,
  applyTest,
  AWSPREVIOUS,
  claimToSet,
  createSecret,
  dropPendingLabel,
  finishSecret,
  isUnclearOutcome,
  readValue,
  readVersions,
  requireClaim,
  RotationError,
  type VersionValue,
} from '../../rotation/index.js';
import { errorCode } from '../../engine/index.js';
import { readAdminToken } from '../admin-token.js';
import { claimForRepair, findCredentialRepair } from '../credential-repair.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';
import { notifyRefresh, pushRefreshNotice, type Notified } from '../notify-refresh.js';
import { cliRotationKind, cliRotationKinds, type CliRotationKind } from '../rotation-kinds.js';
import { cliErrorOf } from '../rotation-failure.js';
import { replicaWriteRefusal } from '../replication.js';
import { appendRotationLog, rotationLogPath } from '../rotation-log.js';
import { planRotation, type RotationPlan } from '../rotation-plan.js';
import { reserveTokenFile, resumeTokenFile, type TokenFile } from '../token-file.js';

/**
 * `secrets rotate <kind>`, as explicit phases, each a function with a typed result, in this
 * order (see rotateCommand):
 *
 *   plan      read only: the version to resume or a new one, the token file, the cooldown
 *   confirm   the operator's answer (--yes answers it)
 *   claim     the token file reserved, the pending version put and AWSPENDING taken (claim, then
 *             act: `rotation/rotation-claim.ts`); a rotation claimed by someone else since the
 *             plan stops here with nothing changed
 *   hand over the new token to its 0600 file or stdout, re-checking the claim first
 *   steps     setSecret, testSecret, finishSecret, each effect re-checking the claim first
 *   notify    the Redis push, --notify, the old credential removed (never fails the command)
 *   report    the rotation log line and the summary
 *
 * Only the claim phase and after change anything, so two operators who answer at about the same
 * time never both start a rotation: exactly one claim wins, the other names it.
 */
export async function rotateCommand(ctx: CommandContext): Promise<number> {
  // Writes stay in the primary region: a write refused because the region holds a replica names the primary.
  try {
    return await rotateInRegion(ctx);
  } catch (err) {
    if (!(err instanceof CliError) || err.code === 'USAGE' || err.code === 'CANCELLED') throw err;
    const secretId = ctx.catalog.entry(cliRotationKind(ctx.secretArg(cliRotationKinds())).module.secretName)!.awsId;
    throw (await replicaWriteRefusal(ctx.deps.secretsManager(ctx.globals.aws), err, secretId, ctx.region)) ?? err;
  }
}

async function rotateInRegion(ctx: CommandContext): Promise<number> {
  const request = rotationRequest(ctx);
  const built = await buildDeps(ctx, request);
  try {
    const plan = await planPhase(ctx, request, built.deps);
    await confirmPhase(ctx, request, plan);
    const claimed = await claimPhase(ctx, request, plan, built.deps);
    await handOverPhase(ctx, request, claimed);
    const finished = await stepsPhase(request, claimed);
    const notified = await notifyPhase(ctx, request, finished);
    return await reportPhase(ctx, request, finished, notified);
  } finally {
    await built.close();
  }
}

/** What the command line asks for, checked. */
interface RotationRequest {
  readonly kind: CliRotationKind<unknown>;
  readonly secretId: string;
  readonly strategy: string;
  readonly client: SecretsManagerClient;
  /** The clock finishSecret stamps the switch with (the grace window starts there). */
  readonly now: () => number;
}

function rotationRequest(ctx: CommandContext): RotationRequest {
  const { deps, globals, options, catalog } = ctx;
  const kind = cliRotationKind(ctx.secretArg(cliRotationKinds()));
  const secretId = catalog.entry(kind.module.secretName)!.awsId;
  const strategy = options.strategy ?? kind.strategies[0]!;
  if (!kind.strategies.includes(strategy)) throw new CliError('USAGE', `--strategy must be ${kind.strategies.join(' or ')}`);
  if (options.print && options['save-token'] !== undefined) throw new CliError('USAGE', 'use --print or --save-token, not both');
  return { kind, secretId, strategy, client: deps.secretsManager(globals.aws), now: deps.now };
}

/**
 * Plan: reads only (see planRotation). For a database or Redis password whose AWSCURRENT no
 * longer logs in, the plan is a repair: finish onto the version whose password the server takes
 * (credential-repair.ts), so an operator is never left without a way back.
 */
async function planPhase(ctx: CommandContext, r: RotationRequest, moduleDeps: unknown): Promise<RotationPlan> {
  const { deps, options } = ctx;
  try {
    const repair = await findCredentialRepair(r.client, r.secretId, r.kind.module, moduleDeps);
    if (repair !== undefined) {
      const currentVersionId = (await readVersions(r.client, r.secretId)).current?.versionId;
      return { versionId: repair.versionId, resume: 'repair', tokenPath: undefined, currentVersionId, ...(repair.claimFrom !== undefined && { claimFrom: repair.claimFrom }) };
    }
    return await planRotation({
      client: r.client,
      secretId: r.secretId,
      kind: r.kind.module.kind,
      cwd: deps.cwd,
      savePath: options['save-token'] === undefined ? undefined : resolve(deps.cwd, options['save-token']),
      noFile: options.print === true || !r.kind.module.handover,
      force: options.force === true,
      now: deps.now(),
    });
  } catch (err) {
    throw cliErrorOf(err, r.secretId);
  }
}

/** Built before asking: a missing setting (a master secret) is a usage error, not a stop half way. */
async function buildDeps(ctx: CommandContext, r: RotationRequest): Promise<{ readonly deps: unknown; close(): Promise<void> }> {
  try {
    return await r.kind.deps(ctx, r.client);
  } catch (err) {
    throw cliErrorOf(err, r.secretId);
  }
}

/** Confirm: CANCELLED (nothing changed) unless the operator says yes. */
async function confirmPhase(ctx: CommandContext, r: RotationRequest, plan: RotationPlan): Promise<void> {
  const from = plan.currentVersionId ?? '-';
  const effect = r.kind.effect(r.strategy);
  const question =
    plan.resume === 'repair'
      ? `Repair ${r.secretId}: AWSCURRENT ${from} no longer logs in, version ${plan.versionId} does${plan.claimFrom === undefined ? '' : ` (version ${plan.claimFrom}, pending, does not: its claim is taken)`}. Finish onto it: AWSCURRENT ${from} -> ${plan.versionId}?`
      : plan.resume === undefined
      ? `Rotate ${r.secretId} (${r.strategy}): AWSCURRENT ${from} -> a new version? ${effect}`
      : `Resume the unfinished rotation of ${r.secretId} (${r.strategy}): AWSCURRENT ${from} -> ${plan.versionId}? ${effect}`;
  if (!ctx.options.yes && !(await ctx.deps.confirm(question))) throw new CliError('CANCELLED', 'Rotation cancelled; nothing changed');
}

/** The claim phase's result: this run's version holds AWSPENDING (or is already AWSCURRENT). */
interface Claimed {
  readonly plan: RotationPlan;
  readonly moduleDeps: unknown;
  readonly tokenFile: TokenFile | undefined;
  readonly current: VersionValue;
  readonly pending: VersionValue;
  readonly created: boolean;
  /** The run found its version already AWSCURRENT (a finished rotation run again). */
  readonly alreadyCurrent: boolean;
}

/** Where a run stopped, for its message: nothing claimed, claimed, or the token handed over too. */
type Reached = 'nothing' | 'claimed' | 'handed-over';

/**
 * Claim: reserves the token file (a bad path fails while nothing has changed), then createSecret
 * puts the pending version under its own label and moves AWSPENDING to it without
 * RemoveFromVersionId. A rotation claimed since the plan (another operator, the rotation
 * function) makes this fail with ROTATION_IN_PROGRESS, naming it; the reservation is given back.
 */
async function claimPhase(ctx: CommandContext, r: RotationRequest, plan: RotationPlan, moduleDeps: unknown): Promise<Claimed> {
  const reservation = { secretId: r.secretId, versionId: plan.versionId };
  const tokenFile = plan.tokenPath === undefined ? undefined : plan.resume === undefined ? await reserveTokenFile(plan.tokenPath, reservation) : await resumeTokenFile(plan.tokenPath, reservation);
  if (plan.resume !== undefined) ctx.deps.stderr(`Resuming the rotation of ${r.secretId} to version ${plan.versionId} (${resumedFrom(plan)})\n`);
  try {
    if (plan.resume === 'repair') await claimForRepair(r.client, r.secretId, { versionId: plan.versionId, claimFrom: plan.claimFrom });
    const { current, pending, created } = await createSecret(r.kind.module, { client: r.client, secretId: r.secretId, versionId: plan.versionId, deps: moduleDeps });
    return { plan, moduleDeps, tokenFile, current, pending, created, alreadyCurrent: current.versionId === plan.versionId };
  } catch (err) {
    // A write whose answer was lost may have put the version or taken the claim: the reservation stays for the re-run.
    if (!mayHaveLanded(err)) await tokenFile?.release();
    throw stopped(err, r, plan.versionId, tokenFile, 'nothing');
  }
}

function resumedFrom(plan: RotationPlan): string {
  if (plan.resume === 'pending') return 'found under AWSPENDING';
  if (plan.resume === 'candidate') return 'found under its candidate label: a run stopped before claiming it';
  if (plan.resume === 'repair') return 'a repair: the only version whose password logs in';
  return `found reserved in ${plan.tokenPath}`;
}

/** Hand over: the new token to its file or stdout, only while this run's version holds the claim. */
async function handOverPhase(ctx: CommandContext, r: RotationRequest, c: Claimed): Promise<void> {
  if (!r.kind.module.handover) return;
  try {
    if (!c.alreadyCurrent) await requireClaim(r.client, r.secretId, c.plan.versionId, 'the hand-over of its token');
    if (ctx.options.print) ctx.deps.stdout(`${c.pending.value}\n`);
    else if (c.tokenFile !== undefined) await fillTokenFile(c.tokenFile, c.pending.value);
  } catch (err) {
    throw stopped(err, r, c.plan.versionId, c.tokenFile, 'claimed');
  }
}

async function fillTokenFile(file: TokenFile, token: string): Promise<void> {
  try {
    await file.fill(token);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError('FAILED', `Could not write the new token to ${file.path} (${errorCode(err)})`, { cause: err });
  }
}

/** The steps' result: AWSCURRENT is on this run's version. */
interface Finished {
  readonly claimed: Claimed;
  readonly toVersionId: string;
  /** The version AWSCURRENT moved from; undefined when this run found the rotation finished. */
  readonly fromVersionId: string | undefined;
  /** The value the new version replaced (AWSPREVIOUS now). Never logged. */
  readonly replaced: VersionValue | undefined;
  /** AWSPENDING was off this run's version right after its switch: a cancel (or another run of it) ran as the switch landed. */
  readonly cancelRaced?: boolean;
}

/**
 * Steps: setSecret (re-checking the claim right before its effect), testSecret, finishSecret
 * (which checks the claim as it moves AWSCURRENT, naming the version it moves from), then
 * AWSPENDING off the new current version. A run that finds its version current completes what a
 * stopped finish may have left (ROTATION_IMMEDIATE) and moves nothing else.
 */
async function stepsPhase(r: RotationRequest, c: Claimed): Promise<Finished> {
  const ctx = { client: r.client, secretId: r.secretId, versionId: c.plan.versionId, deps: c.moduleDeps };
  const mode = r.kind.finishMode(r.strategy);
  try {
    if (c.alreadyCurrent) {
      await finishSecret(ctx, mode, { now: r.now });
      await dropPendingLabel(ctx);
      return { claimed: c, toVersionId: ctx.versionId, fromVersionId: undefined, replaced: await readValue(r.client, r.secretId, { stage: AWSPREVIOUS }) };
    }
    const pendingCtx = { ...ctx, current: c.current, pending: c.pending };
    if ((await claimToSet(r.kind.module, ctx)) === 'pending') {
      await applySet(r.kind.module, pendingCtx);
      await applyTest(r.kind.module, pendingCtx);
    }
    const finished = await finishSecret(ctx, mode, { now: r.now });
    const pendingLabel = await dropPendingLabel(ctx);
    return { claimed: c, toVersionId: ctx.versionId, fromVersionId: finished.fromVersionId, replaced: c.current, cancelRaced: pendingLabel === 'gone' };
  } catch (err) {
    throw stopped(err, r, ctx.versionId, c.tokenFile, r.kind.module.handover ? 'handed-over' : 'claimed', await switchedNow(r, ctx.versionId));
  }
}

/**
 * After a failed step: whether this run's version is AWSCURRENT now (the switch landed, a later
 * label did not), read afresh; undefined when that read fails too, so the message says nothing it
 * does not know.
 */
async function switchedNow(r: RotationRequest, versionId: string): Promise<boolean | undefined> {
  try {
    return (await readVersions(r.client, r.secretId)).current?.versionId === versionId;
  } catch {
    return undefined;
  }
}

/** Whether a failed step may still have changed something (an unclear answer), so a re-run must look. */
function mayHaveLanded(err: unknown): boolean {
  return err instanceof RotationError ? err.code === 'ROTATION_OUTCOME_UNKNOWN' : !(err instanceof CliError) && isUnclearOutcome(err);
}

/** One line saying where the rotation stopped, what still holds, and what to run next. */
function stopped(err: unknown, r: RotationRequest, versionId: string, tokenFile: TokenFile | undefined, reached: Reached, switched: boolean | undefined = false): CliError {
  const base = cliErrorOf(err, r.secretId);
  const kind = r.kind.module.kind;
  // Only tokens offer to cancel: a password may already be set at its server, and is finished, not cancelled.
  const cancel = r.kind.rollback && r.kind.module.handover ? `, or "secrets rollback ${kind}" to cancel it` : '';
  const holder = err instanceof RotationError ? err.claimHolder : undefined;
  let message: string;
  if (holder !== undefined) {
    // Someone else holds the claim (or nobody does): this run did nothing more, and says what to run.
    const what =
      holder === null
        ? `No rotation of ${r.secretId} is in progress now: run "secrets rotate ${kind}" to start a new one`
        : `Run "secrets rotate ${kind}" to resume version ${holder}${cancel}`;
    const file = tokenFile === undefined || reached === 'nothing' ? '' : ` The token handed over in ${tokenFile.path} belongs to version ${versionId}, which is not current: do not use it.`;
    message = `${base.message}. ${what}.${file}`;
    return new CliError(base.code, message, { cause: err });
  }
  // Past the claim, an unclear read is no unclear outcome: only a step that says so (the switch) is.
  const unknown = reached === 'nothing' ? mayHaveLanded(err) : switched === undefined || (err instanceof RotationError && err.code === 'ROTATION_OUTCOME_UNKNOWN' && switched !== true);
  const resume = tokenFile === undefined ? `run the same command again to resume version ${versionId}` : `run the same command again to resume (${tokenFile.path} is reserved for version ${versionId})`;
  if (reached === 'nothing') message = unknown ? `${base.message}: ${resume}` : `${base.message}; nothing changed`;
  else if (switched === true) {
    // The switch landed and a later label did not (ROTATION_IMMEDIATE): the new value is in use.
    const where = tokenFile === undefined ? '' : `; its token is in ${tokenFile.path}`;
    // Immediate asked for, not done: the token replaced is still accepted. Nothing durable tells this state from a finished
    // graceful rotation (whose token may be the leaked one), so a re-run does not guess: a new rotation revokes both.
    const immediate =
      r.kind.finishMode(r.strategy) === 'immediate' && r.kind.module.handover
        ? `, but it is not labelled ROTATION_IMMEDIATE: instances still accept the token it replaced for their grace window. ` +
          `To revoke that token now: secrets rotate ${kind} --force (a new immediate rotation; the token of version ${versionId} is then refused too)`
        : '';
    message = `${base.message}. Version ${versionId} of ${r.secretId} is AWSCURRENT${immediate === '' ? where : `${where}${immediate}`}`;
  }
  else if (reached === 'claimed' && r.kind.module.handover) {
    message = `${base.message}. Version ${versionId} of ${r.secretId} is pending, not current (the old token still works), but its token was not handed over: run the command again with --save-token PATH or --print to get it and finish${cancel}`;
  } else if (unknown) {
    message = `${base.message}: version ${versionId} may or may not be current now; run the same command again to settle it`;
  } else {
    const where = tokenFile === undefined ? '' : `; its token is in ${tokenFile.path}`;
    const holds = r.kind.pendingNote?.(r.strategy) ?? `the old ${r.kind.module.handover ? 'token' : 'value'} still works`;
    message = `${base.message}. Version ${versionId} of ${r.secretId} is pending, not current: ${holds}${where}. Run the same command again to resume${cancel}`;
  }
  return new CliError(base.code, message, { cause: err });
}

/** The notify phase's result. Once AWSCURRENT moved, nothing may fail the command: these only warn. */
interface NotifyResult {
  readonly receivers: number | undefined;
  readonly notified: readonly Notified[];
  readonly cleanup: 'removed' | 'kept' | undefined;
  readonly warnings: readonly string[];
}

/** Notify: instances first (until they refresh, a single-user database password refuses their new logins), then the old credential. */
async function notifyPhase(ctx: CommandContext, r: RotationRequest, f: Finished): Promise<NotifyResult> {
  const { deps, options } = ctx;
  const committed = committedNote(r, f);
  const warnings: string[] = [];
  if (f.cancelRaced === true) {
    warnings.push(`${committed}; AWSPENDING was already off version ${f.toVersionId} right after the switch: another run of this rotation or a cancel (secrets rollback) took it as the switch landed. A cancel that reported success cancelled nothing; to undo the rotation: secrets rollback ${r.kind.module.kind}`);
  }
  const receivers = r.kind.announce === true ? await pushRefreshNotice(ctx, { client: r.client, secretId: r.secretId, name: r.kind.module.secretName, versionId: f.toVersionId, reason: `rotated ${r.secretId}` }, warnings, committed) : undefined;
  let notified: Notified[] = [];
  if ((options.notify ?? []).length > 0) {
    try {
      notified = await notifyRefresh(options.notify ?? [], await noticeToken(ctx, r, f), [r.kind.module.secretName], deps);
    } catch (err) {
      warnings.push(`${committed}; could not read the admin token to notify instances (${cliErrorOf(err, r.secretId).code})`);
    }
  }
  for (const n of notified.filter((x) => !x.ok)) {
    warnings.push(`${committed}; ${n.url} did not refresh (HTTP ${n.status || 'unreachable'}): refresh instances with POST ${n.url}/admin/refresh-secrets`);
  }
  const cleanup = await finishAtResource(r, f, notified, warnings, committed);
  return { receivers, notified, cleanup, warnings };
}

const committedNote = (r: RotationRequest, f: Finished) => `the rotation is committed (AWSCURRENT of ${r.secretId} is now ${f.toVersionId})`;

/**
 * The module's last step at its resource (the old Redis password removed), once every instance
 * named by --notify has refreshed: before that, one of them might still log in with it. Without
 * --notify, or when one failed, nothing is removed: the next rotation drops it. Like every
 * effect, it re-checks first: if AWSCURRENT is no longer this version (a rollback since), the
 * old password may be the current one again, and is kept.
 */
async function finishAtResource(r: RotationRequest, f: Finished, notified: readonly Notified[], warnings: string[], committed: string): Promise<'removed' | 'kept' | undefined> {
  const { module } = r.kind;
  if (module.afterFinish === undefined) return undefined;
  if (notified.length === 0 || notified.some((n) => !n.ok)) return 'kept';
  try {
    if ((await readVersions(r.client, r.secretId)).current?.versionId !== f.toVersionId) {
      warnings.push(`${committed}, but AWSCURRENT has moved since (a rollback?): the old password was kept`);
      return 'kept';
    }
    const current = await readValue(r.client, r.secretId, { versionId: f.toVersionId });
    if (current === undefined) throw new RotationError('ROTATION_NO_CURRENT', `Version ${f.toVersionId} of ${r.secretId} has no value`);
    await module.afterFinish({ client: r.client, secretId: r.secretId, versionId: f.toVersionId, deps: f.claimed.moduleDeps, current, previous: f.replaced });
    return 'removed';
  } catch (err) {
    const failure = cliErrorOf(err, r.secretId);
    warnings.push(`${committed}; could not remove the old password (${failure.code}: ${failure.message}): it stays valid until the next rotation removes it`);
    return 'kept';
  }
}

/**
 * The admin token a refresh notice carries: instances accept the replaced admin token until they
 * refresh (an immediate rotation included), so it authenticates the notice; other kinds use the
 * admin token as it is.
 */
async function noticeToken(ctx: CommandContext, r: RotationRequest, f: Finished): Promise<string | undefined> {
  if (r.kind.module.secretName === 'ADMIN_TOKEN') return f.replaced?.value;
  return readAdminToken(r.client, ctx.catalog);
}

/** Report: the rotation log line, then the summary (JSON with --json). */
async function reportPhase(ctx: CommandContext, r: RotationRequest, f: Finished, n: NotifyResult): Promise<number> {
  const { deps, globals, options } = ctx;
  const { secretId, strategy, kind } = r;
  const { plan, tokenFile } = f.claimed;
  const warnings = [...n.warnings];
  const logPath = resolve(deps.cwd, options['rotation-log'] ?? rotationLogPath(kind.module.kind));
  try {
    await appendRotationLog(logPath, {
      at: new Date(deps.now()).toISOString(),
      action: 'rotate',
      secretId,
      fromVersionId: f.fromVersionId ?? null,
      toVersionId: f.toVersionId,
      strategy,
      ...(plan.resume !== undefined && { resumed: true }),
      caller: await deps.callerArn(globals.aws),
    });
  } catch (err) {
    warnings.push(`${committedNote(r, f)}; could not append to ${logPath} (${errorCode(err)})`);
  }
  for (const w of warnings) deps.stderr(`warning: ${w}\n`);

  const label = kind.module.kind.replace(/-/g, ' ');
  const summary = {
    secretId,
    strategy,
    fromVersionId: f.fromVersionId ?? null,
    toVersionId: f.toVersionId,
    resumed: plan.resume !== undefined,
    tokenFile: tokenFile?.path ?? null,
    ...(kind.announce === true && { refreshNoticeReceivers: n.receivers ?? null }),
    notified: n.notified,
    ...(n.cleanup !== undefined && { oldCredentialRemoved: n.cleanup === 'removed' }),
    warnings,
  };
  const head =
    f.fromVersionId === undefined
      ? `Version ${f.toVersionId} of ${secretId} is already AWSCURRENT; nothing moved`
      : `${plan.resume === undefined ? 'Rotated' : 'Finished the rotation of'} ${secretId} (${strategy}): AWSCURRENT ${f.fromVersionId} -> ${f.toVersionId}`;
  const lines = [
    head,
    ...(tokenFile !== undefined ? [`New ${label} saved to: ${tokenFile.path} (mode 0600)`] : []),
    ...(n.receivers !== undefined ? [`Published a refresh notice on Redis (${n.receivers} listening)`] : []),
    ...n.notified.map((x) => `Notified ${x.url}: ${x.ok ? 'refreshed' : `failed (HTTP ${x.status || 'unreachable'})`}`),
    ...(n.cleanup === 'removed' ? ['Removed the old password: only the new one works now'] : []),
    ...(n.cleanup === 'kept' ? ['The old password stays valid until the next rotation removes it (pass every instance to --notify to remove it as soon as they have switched)'] : []),
    '',
    kind.checklist,
    '',
  ];
  (options.print ? deps.stderr : deps.stdout)(globals.json && !options.print ? `${JSON.stringify(summary, null, 2)}\n` : lines.join('\n'));
  return EXIT_CODES.OK;
}
