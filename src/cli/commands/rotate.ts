import { resolve } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { driverErrorCode, publishRefreshNotice, readValue, RotationError, runRotation, type RotationOutcome } from '../../rotation/index.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';
import { notifyRefresh, type Notified } from '../notify-refresh.js';
import { cliRotationKind, cliRotationKinds, type CliRotationKind } from '../rotation-kinds.js';
import { cliErrorOf } from '../rotation-failure.js';
import { appendRotationLog, rotationLogPath } from '../rotation-log.js';
import { planRotation, type RotationPlan } from '../rotation-plan.js';
import { reserveTokenFile, resumeTokenFile, type TokenFile } from '../token-file.js';
import { errorCode } from '../../engine/index.js';

interface Progress {
  created: boolean;
  handedOver: boolean;
}

/** `secrets rotate <kind>`. */
export async function rotateCommand(ctx: CommandContext): Promise<number> {
  const { deps, globals, options, catalog } = ctx;
  const kind = cliRotationKind(ctx.secretArg(cliRotationKinds()));
  const { module } = kind;
  const secretId = catalog.entry(module.secretName)!.awsId;
  const strategy = options.strategy ?? kind.strategies[0]!;
  if (!kind.strategies.includes(strategy)) throw new CliError('USAGE', `--strategy must be ${kind.strategies.join(' or ')}`);
  if (options.print && options['save-token'] !== undefined) throw new CliError('USAGE', 'use --print or --save-token, not both');
  const client = deps.secretsManager(globals.aws);
  let plan: RotationPlan;
  try {
    plan = await planRotation({
      client,
      secretId,
      kind: module.kind,
      cwd: deps.cwd,
      savePath: options['save-token'] === undefined ? undefined : resolve(deps.cwd, options['save-token']),
      noFile: options.print === true || !module.handover,
      force: options.force === true,
      now: deps.now(),
    });
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
  const from = plan.currentVersionId ?? '-';
  const effect = kind.effect(strategy);
  const question =
    plan.resume === undefined
      ? `Rotate ${secretId} (${strategy}): AWSCURRENT ${from} -> a new version? ${effect}`
      : `Resume the unfinished rotation of ${secretId} (${strategy}): AWSCURRENT ${from} -> ${plan.versionId}? ${effect}`;
  // Built before asking: a missing setting (a master secret) is a usage error, not a stop half way.
  let built: { readonly deps: unknown; close(): Promise<void> };
  try {
    built = await kind.deps(ctx, client);
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
  try {
    if (!options.yes && !(await deps.confirm(question))) throw new CliError('CANCELLED', 'Rotation cancelled; nothing changed');
    return await rotateAndCommit(ctx, kind, { secretId, strategy, plan, client, moduleDeps: built.deps });
  } finally {
    await built.close();
  }
}

interface Run {
  readonly secretId: string;
  readonly strategy: string;
  readonly plan: RotationPlan;
  readonly client: SecretsManagerClient;
  readonly moduleDeps: unknown;
}

async function rotateAndCommit(ctx: CommandContext, kind: CliRotationKind<unknown>, r: Run): Promise<number> {
  const { deps, options } = ctx;
  const { module } = kind;
  const { secretId, strategy, plan, client, moduleDeps } = r;
  const reservation = { secretId, versionId: plan.versionId };
  const tokenFile = plan.tokenPath === undefined ? undefined : plan.resume === undefined ? await reserveTokenFile(plan.tokenPath, reservation) : await resumeTokenFile(plan.tokenPath, reservation);
  if (plan.resume !== undefined) deps.stderr(`Resuming the rotation of ${secretId} to version ${plan.versionId} (found ${plan.resume === 'pending' ? 'under AWSPENDING' : `reserved in ${plan.tokenPath}`})\n`);
  const progress: Progress = { created: false, handedOver: false };
  let outcome: RotationOutcome;
  try {
    outcome = await runRotation({
      module,
      client,
      secretId,
      versionId: plan.versionId,
      deps: moduleDeps,
      mode: kind.finishMode(strategy),
      now: deps.now,
      onStep: (step) => {
        if (step === 'createSecret') progress.created = true;
      },
      onPending: async (pending) => {
        if (options.print) deps.stdout(`${pending.value}\n`);
        else if (tokenFile !== undefined) await fillTokenFile(tokenFile, pending.value);
        progress.handedOver = true;
      },
    });
  } catch (err) {
    if (!progress.created && !(err instanceof RotationError && err.code === 'ROTATION_OUTCOME_UNKNOWN')) await tokenFile?.release();
    throw stopped(err, { secretId, kind, strategy, versionId: plan.versionId, tokenFile, progress });
  }
  return afterCommit(ctx, kind, { secretId, strategy, plan, outcome, client, moduleDeps, tokenPath: tokenFile?.path });
}

async function fillTokenFile(file: TokenFile, token: string): Promise<void> {
  try {
    await file.fill(token);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError('FAILED', `Could not write the new token to ${file.path} (${errorCode(err)})`, { cause: err });
  }
}

/** One line saying where the rotation stopped, what still holds, and what to run next. */
function stopped(err: unknown, s: { secretId: string; kind: CliRotationKind<unknown>; strategy: string; versionId: string; tokenFile: TokenFile | undefined; progress: Progress }): CliError {
  const base = cliErrorOf(err, s.secretId);
  const kind = s.kind.module.kind;
  // Only kinds whose labels may move back offer a rollback; a password set at its resource cannot be taken back.
  const cancel = s.kind.rollback ? `, or "secrets rollback ${kind}" to cancel it` : '';
  const unknown = err instanceof RotationError && err.code === 'ROTATION_OUTCOME_UNKNOWN';
  const resume = s.tokenFile === undefined ? `run the same command again to resume version ${s.versionId}` : `run the same command again to resume (${s.tokenFile.path} is reserved for version ${s.versionId})`;
  let message: string;
  if (!s.progress.created) message = unknown ? `${base.message}: ${resume}` : `${base.message}; nothing changed`;
  else if (!s.progress.handedOver) {
    message = `${base.message}. Version ${s.versionId} of ${s.secretId} is pending, not current (the old token still works), but its token was not handed over: run the command again with --save-token PATH or --print to get it and finish${cancel}`;
  } else if (unknown) {
    message = `${base.message}: version ${s.versionId} may or may not be current now; run the same command again to settle it`;
  } else {
    const where = s.tokenFile === undefined ? '' : `; its token is in ${s.tokenFile.path}`;
    const holds = s.kind.pendingNote?.(s.strategy) ?? `the old ${s.kind.module.handover ? 'token' : 'value'} still works`;
    message = `${base.message}. Version ${s.versionId} of ${s.secretId} is pending, not current: ${holds}${where}. Run the same command again to resume${cancel}`;
  }
  return new CliError(base.code, message, { cause: err });
}

interface Committed {
  readonly secretId: string;
  readonly strategy: string;
  readonly plan: RotationPlan;
  readonly outcome: RotationOutcome;
  readonly client: SecretsManagerClient;
  readonly moduleDeps: unknown;
  readonly tokenPath: string | undefined;
}

/** Once AWSCURRENT moved, nothing may fail the command: the log and notices only warn. */
async function afterCommit(ctx: CommandContext, kind: CliRotationKind<unknown>, c: Committed): Promise<number> {
  const { deps, globals, options } = ctx;
  const { secretId, strategy, outcome } = c;
  const committed = `the rotation is committed (AWSCURRENT of ${secretId} is now ${outcome.toVersionId})`;
  const warnings: string[] = [];
  // Instances first: until they refresh, a single-user database password refuses their new logins.
  const receivers = kind.announce === true ? await pushNotice(ctx, kind, c, warnings, committed) : undefined;
  let notified: Notified[] = [];
  if ((options.notify ?? []).length > 0) {
    try {
      notified = await notifyRefresh(options.notify ?? [], await noticeToken(ctx, kind, c), [kind.module.secretName], deps);
    } catch (err) {
      warnings.push(`${committed}; could not read the admin token to notify instances (${cliErrorOf(err, secretId).code})`);
    }
  }
  for (const n of notified.filter((x) => !x.ok)) {
    warnings.push(`${committed}; ${n.url} did not refresh (HTTP ${n.status || 'unreachable'}): refresh instances with POST ${n.url}/admin/refresh-secrets`);
  }
  const logPath = resolve(deps.cwd, options['rotation-log'] ?? rotationLogPath(kind.module.kind));
  try {
    await appendRotationLog(logPath, {
      at: new Date(deps.now()).toISOString(),
      action: 'rotate',
      secretId,
      fromVersionId: outcome.fromVersionId ?? null,
      toVersionId: outcome.toVersionId,
      strategy,
      ...(c.plan.resume !== undefined && { resumed: true }),
      caller: await deps.callerArn(globals.aws),
    });
  } catch (err) {
    warnings.push(`${committed}; could not append to ${logPath} (${errorCode(err)})`);
  }
  const cleanup = await finishAtResource(ctx, kind, c, notified, warnings, committed);
  for (const w of warnings) deps.stderr(`warning: ${w}\n`);

  const label = kind.module.kind.replace(/-/g, ' ');
  const summary = {
    secretId,
    strategy,
    fromVersionId: outcome.fromVersionId ?? null,
    toVersionId: outcome.toVersionId,
    resumed: c.plan.resume !== undefined,
    tokenFile: c.tokenPath ?? null,
    ...(kind.announce === true && { refreshNoticeReceivers: receivers ?? null }),
    notified,
    ...(cleanup !== undefined && { oldCredentialRemoved: cleanup === 'removed' }),
    warnings,
  };
  const head = outcome.alreadyCurrent
    ? `Version ${outcome.toVersionId} of ${secretId} is already AWSCURRENT; nothing moved`
    : `${c.plan.resume === undefined ? 'Rotated' : 'Finished the rotation of'} ${secretId} (${strategy}): AWSCURRENT ${outcome.fromVersionId ?? '-'} -> ${outcome.toVersionId}`;
  const lines = [
    head,
    ...(c.tokenPath !== undefined ? [`New ${label} saved to: ${c.tokenPath} (mode 0600)`] : []),
    ...(receivers !== undefined ? [`Published a refresh notice on Redis (${receivers} listening)`] : []),
    ...notified.map((n) => `Notified ${n.url}: ${n.ok ? 'refreshed' : `failed (HTTP ${n.status || 'unreachable'})`}`),
    ...(cleanup === 'removed' ? ['Removed the old password: only the new one works now'] : []),
    ...(cleanup === 'kept' ? ['The old password stays valid until the next rotation removes it (pass every instance to --notify to remove it as soon as they have switched)'] : []),
    '',
    kind.checklist,
    '',
  ];
  (options.print ? deps.stderr : deps.stdout)(globals.json && !options.print ? `${JSON.stringify(summary, null, 2)}\n` : lines.join('\n'));
  return EXIT_CODES.OK;
}

/** The Redis push: a notice on the refresh channel, with REDIS_URL's current credentials. Warns on failure. */
async function pushNotice(ctx: CommandContext, kind: CliRotationKind<unknown>, c: Committed, warnings: string[], committed: string): Promise<number | undefined> {
  const redisSecretId = ctx.catalog.entry('REDIS_URL')!.awsId;
  try {
    return await publishRefreshNotice({
      client: c.client,
      redisSecretId,
      redis: ctx.deps.credentialClients.redis,
      origin: 'secrets-cli',
      reason: `rotated ${c.secretId}`,
      catalog: ctx.catalog,
      name: kind.module.secretName,
      versionId: c.outcome.toVersionId,
      now: ctx.deps.now,
    });
  } catch (err) {
    const code = err instanceof RotationError ? err.code : driverErrorCode(err);
    warnings.push(`${committed}; could not publish a refresh notice on Redis (${code}): instances switch at their next refresh, or refresh them with --notify`);
    return undefined;
  }
}

/**
 * The module's last step at its resource (the old Redis password removed), once every instance
 * named by --notify has refreshed: before that, one of them might still log in with it. Without
 * --notify, or when one failed, nothing is removed: the next rotation drops it.
 */
async function finishAtResource(
  ctx: CommandContext,
  kind: CliRotationKind<unknown>,
  c: Committed,
  notified: readonly Notified[],
  warnings: string[],
  committed: string,
): Promise<'removed' | 'kept' | undefined> {
  const { module } = kind;
  if (module.afterFinish === undefined) return undefined;
  if (notified.length === 0 || notified.some((n) => !n.ok)) return 'kept';
  try {
    const current = await readValue(c.client, c.secretId, { versionId: c.outcome.toVersionId });
    if (current === undefined) throw new RotationError('ROTATION_NO_CURRENT', `Version ${c.outcome.toVersionId} of ${c.secretId} has no value`);
    await module.afterFinish({ client: c.client, secretId: c.secretId, versionId: c.outcome.toVersionId, deps: c.moduleDeps, current, previous: c.outcome.replaced });
    return 'removed';
  } catch (err) {
    const failure = cliErrorOf(err, c.secretId);
    warnings.push(`${committed}; could not remove the old password (${failure.code}: ${failure.message}): it stays valid until the next rotation removes it`);
    return 'kept';
  }
}

/**
 * The admin token a refresh notice carries: instances accept the replaced admin token until they
 * refresh (an immediate rotation included), so it authenticates the notice; other kinds use the
 * admin token as it is.
 */
async function noticeToken(ctx: CommandContext, kind: CliRotationKind<unknown>, c: Committed): Promise<string | undefined> {
  if (kind.module.secretName === 'ADMIN_TOKEN') return c.outcome.replaced?.value;
  return (await readValue(c.client, ctx.catalog.entry('ADMIN_TOKEN')!.awsId, { stage: 'AWSCURRENT' }))?.value;
}
