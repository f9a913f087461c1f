import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWSCURRENT, moveStage, readVersions, ROTATION_IMMEDIATE, type SecretVersions } from '../../rotation/index.js';
import { parse as parseDotenv } from 'dotenv';
import { classifyAwsError, errorCode, parseReplicaRegions, type Catalog, type SecretSpec } from '../../engine/index.js';
import { generateToken } from '../../provisioning/generate-token.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, CliError, fromAwsError } from '../errors.js';
import { enableRotation, rotationFunctionArn, scheduleLines } from '../enable-rotation.js';
import { invalidReason } from '../invalid-reason.js';
import { assertPrimaryRegion, replicateSecrets, writeRegionLine, type ReplicationRow } from '../replication.js';
import { appendRotationLog, rotationLogPath } from '../rotation-log.js';
import { MIN_ROTATION_INTERVAL_MS } from '../rotation-plan.js';
import { CLI_ROTATION_KINDS } from '../rotation-kinds.js';
import type { Style } from '../style.js';
import { columnWidths, formatRow, type Cell } from '../table.js';
import { databaseUrlFromTerraform } from '../terraform-database-url.js';
import { writePolicies } from './iam.js';
import { isLocalEndpoint, isPlaceholder } from '../../provisioning/placeholder.js';

/** `kept`: the file's value differs, but the secret was rotated since setup wrote it (see rotatedSinceSetup). */
export type SetupAction = 'created' | 'updated' | 'unchanged' | 'kept' | 'missing' | 'skipped';

export interface SetupRow {
  readonly name: string;
  readonly secretId: string;
  readonly action: SetupAction;
  readonly generated: boolean;
  /** With `kept`: why the secret counts as rotated. With an overwrite: the version replaced. */
  readonly reason?: string;
  readonly fromVersionId?: string;
  readonly toVersionId?: string;
}

/** Each catalog secret's stored value (undefined: not created yet). Held in memory only, never shown. */
export type StoredValues = ReadonlyMap<string, string | undefined>;

export interface SetupInput {
  readonly client: SecretsManagerClient;
  readonly catalog: Catalog;
  /** Values the operator gave (from --from-env or prompts); absent or empty names are left alone. */
  readonly provided: Readonly<Record<string, string | undefined>>;
  /** What is stored now (readStoredValues); read before anything is asked. */
  readonly stored: StoredValues;
  readonly tags: { readonly project: string; readonly environment: string };
  /** Called as each secret is done, for progress output. */
  readonly onRow?: (row: SetupRow) => void;
  /** Called before each secret's calls start. */
  readonly onStart?: (name: string) => void;
  /** Replica regions a created secret gets at once (CreateSecret's AddReplicaRegions). */
  readonly replicaRegions?: readonly string[];
  /** --overwrite: catalog names whose rotated value the file's value replaces on purpose. */
  readonly overwrite?: ReadonlySet<string>;
  /** --force: an overwrite within the 10-minute cooldown. */
  readonly force?: boolean;
  /** For the cooldown. */
  readonly nowMs?: number;
  /** The rotation log of a rotatable secret's kind (read for rotation lines); undefined: none. */
  readonly rotationLog?: (name: string) => string | undefined;
}

/**
 * The versions `setup` writes carry this prefix in their id (the ClientRequestToken), so that a
 * later run can tell a value it wrote from one a rotation wrote without any other state.
 */
export const SETUP_VERSION_PREFIX = 'setup-';

/**
 * The label a new value of a rotatable secret is put under before setup makes it current with a
 * compare-and-set (UpdateSecretVersionStage naming the AWSCURRENT version it decided on): a
 * rotation or rollback that moves AWSCURRENT between setup's look and its write wins, and setup
 * reports the secret `kept` instead of reverting it. Taken off once the move is done.
 */
export const SETUP_WRITE_STAGE = 'SETUP_WRITE';

/** Catalog names a rotation (CLI or the rotation function) may change: the only ones setup can revert. */
const ROTATABLE = new Set(CLI_ROTATION_KINDS.map((k) => k.module.secretName));
const KIND_OF = new Map(CLI_ROTATION_KINDS.map((k) => [k.module.secretName, k.module.kind]));

/** The rotation kind (`admin-token`) of a catalog name, for its rotation log; undefined if it does not rotate. */
export function rotationKindOf(name: string): string | undefined {
  return KIND_OF.get(name);
}

/**
 * Why a secret counts as rotated since setup last wrote it, or undefined. Only secrets a rotation
 * can change are checked. Rotated: a rotation is unfinished (a version under AWSPENDING that is
 * not current); AWSCURRENT is a version setup did not write while older versions exist (a
 * rotation, a rollback, or a hand-made version: a single version is the one an older setup
 * created); AWSCURRENT carries ROTATION_IMMEDIATE; or the kind's rotation log names the current
 * version. No value is read.
 */
export async function rotatedSinceSetup(client: SecretsManagerClient, secretId: string, logLines: readonly string[]): Promise<string | undefined> {
  return rotationEvidence(await readVersions(client, secretId), secretId, logLines);
}

function rotationEvidence(versions: SecretVersions, secretId: string, logLines: readonly string[]): string | undefined {
  const current = versions.current;
  if (versions.unfinished !== undefined) return `a rotation is unfinished (version ${versions.unfinished.versionId} is AWSPENDING)`;
  if (current === undefined) return undefined;
  if (current.stages.includes(ROTATION_IMMEDIATE)) return `AWSCURRENT ${current.versionId} was made current by an immediate rotation`;
  const logged = logLines.some((l) => l.includes(`"secretId":${JSON.stringify(secretId)}`) && l.includes(`"toVersionId":${JSON.stringify(current.versionId)}`));
  if (logged) return `the rotation log names AWSCURRENT ${current.versionId}`;
  if (!current.versionId.startsWith(SETUP_VERSION_PREFIX) && versions.versions.length > 1) return `AWSCURRENT ${current.versionId} is a version setup did not write`;
  return undefined;
}

async function readLines(path: string | undefined): Promise<string[]> {
  if (path === undefined) return [];
  try {
    return (await readFile(path, 'utf8')).split('\n');
  } catch {
    return [];
  }
}

/**
 * Where `setup` writes the IAM policies unless told otherwise: a git-ignored folder. The
 * committed `iam-policies/` hold the placeholder account (`secrets iam`), and setup must never
 * rewrite them with the account of whoever ran it.
 */
export const DEFAULT_SETUP_POLICIES_DIR = '.generated/iam-policies';

/**
 * Reads every catalog secret's current value, in parallel. The first call that cannot work
 * (no credentials, access denied, endpoint unreachable) fails the command here, before the
 * operator is asked anything or types a value.
 */
export async function readStoredValues(client: SecretsManagerClient, catalog: Catalog): Promise<StoredValues> {
  const values = await Promise.all(
    catalog.entries.map(async ({ awsId }) => {
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: awsId }))).SecretString ?? '';
      } catch (err) {
        if (classifyAwsError(err).code === 'ResourceNotFoundException') return undefined;
        throw fromAwsError(err, awsId);
      }
    }),
  );
  return new Map(catalog.entries.map(({ name }, i) => [name, values[i]]));
}

/** Checks a value the operator gave against the secret's kind: true, or the reason (never the value). */
export function checkValue(spec: SecretSpec<unknown>, value: string): true | string {
  const parsed = spec.kind.parse(value);
  return parsed.ok ? true : invalidReason(parsed.reason, spec.kind.label);
}

/**
 * `secrets setup`: creates missing secrets (generating the tokens the catalog marks so), and
 * writes a new version only where a given value differs from the stored one: AWS keeps at most
 * 100 versions, and an unchanged value must not cost one. Re-running changes nothing.
 */
export async function setupSecrets(input: SetupInput): Promise<SetupRow[]> {
  const { client, catalog, provided, stored, tags, onRow, onStart, replicaRegions = [], overwrite = new Set<string>() } = input;
  for (const name of overwrite) {
    if (catalog.entry(name) === undefined) throw new CliError('USAGE', `--overwrite ${JSON.stringify(name.slice(0, 40))} is not a secret of the catalog`);
  }
  for (const { name, spec } of catalog.entries) {
    const value = provided[name];
    if (value === undefined || value === '') continue;
    const checked = checkValue(spec, value);
    if (checked !== true) throw new CliError('USAGE', `Value given for ${name} is invalid: ${checked}`);
  }
  // Every decision before the first write: a refused overwrite leaves everything as it was.
  const rotated = new Map<string, { readonly reason: string; readonly fromVersionId: string | undefined }>();
  // The AWSCURRENT version each rotatable secret's write is decided on: the write moves AWSCURRENT only from it.
  const decidedOn = new Map<string, string>();
  for (const { name, awsId } of catalog.entries) {
    const existing = stored.get(name);
    const value = provided[name];
    if (!ROTATABLE.has(name) || existing === undefined || value === undefined || value === '' || value === existing) continue;
    const versions = await readVersions(client, awsId).catch((err: unknown) => {
      throw fromAwsError(err, awsId);
    });
    if (versions.current !== undefined) decidedOn.set(name, versions.current.versionId);
    const reason = rotationEvidence(versions, awsId, await readLines(input.rotationLog?.(name)));
    if (reason === undefined) continue;
    rotated.set(name, { reason, fromVersionId: versions.current?.versionId });
    if (!overwrite.has(name)) continue;
    if (versions.unfinished !== undefined) {
      throw new CliError('CONFLICT', `${name}: ${reason}; finish it (secrets rotate ${rotationKindOf(name) ?? ''}) or roll it back before --overwrite ${name}. Nothing changed`);
    }
    const newest = versions.versions[0];
    if (!(input.force ?? false) && newest?.createdMs !== undefined && (input.nowMs ?? Date.now()) - newest.createdMs < MIN_ROTATION_INTERVAL_MS) {
      throw new CliError('CONFLICT', `${awsId} got a new version less than 10 minutes ago; AWS advises against changing it that often. Use --force to overwrite ${name} anyway. Nothing changed`);
    }
  }
  const rows: SetupRow[] = [];
  for (const { name, awsId, spec } of catalog.entries) {
    onStart?.(name);
    const existing = stored.get(name);
    let value = provided[name] === '' ? undefined : provided[name];
    let generated = false;
    if (value === undefined && existing === undefined && spec.generate !== undefined) {
      value = generateToken(spec.generate.bytes);
      generated = true;
    }
    const evidence = rotated.get(name);
    let row: SetupRow;
    try {
      if (existing === undefined && value !== undefined) {
        await client.send(
          new CreateSecretCommand({
            Name: awsId,
            Description: spec.description,
            SecretString: value,
            ClientRequestToken: setupVersionId(),
            Tags: [
              { Key: 'Project', Value: tags.project },
              { Key: 'Environment', Value: tags.environment },
            ],
            ...(replicaRegions.length > 0 && { AddReplicaRegions: replicaRegions.map((Region) => ({ Region })) }),
          }),
        );
        row = { name, secretId: awsId, action: 'created', generated };
      } else if (existing !== undefined && value !== undefined && value !== existing && evidence !== undefined && !overwrite.has(name)) {
        row = { name, secretId: awsId, action: 'kept', generated, reason: evidence.reason };
      } else if (existing !== undefined && value !== undefined && value !== existing) {
        const toVersionId = setupVersionId();
        const moved = await writeCurrent(client, awsId, value, toVersionId, decidedOn.get(name));
        if (moved !== undefined) {
          row = { name, secretId: awsId, action: 'kept', generated, reason: moved };
          rows.push(row);
          onRow?.(row);
          continue;
        }
        row = {
          name,
          secretId: awsId,
          action: 'updated',
          generated,
          ...(evidence !== undefined && { reason: evidence.reason, toVersionId, ...(evidence.fromVersionId !== undefined && { fromVersionId: evidence.fromVersionId }) }),
        };
      } else {
        row = { name, secretId: awsId, action: existing !== undefined ? 'unchanged' : spec.required ? 'missing' : 'skipped', generated };
      }
    } catch (err) {
      throw fromAwsError(err, awsId);
    }
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

const setupVersionId = () => `${SETUP_VERSION_PREFIX}${randomUUID()}`;

/**
 * Writes a new current value. Without `decidedOn` (a secret no rotation changes), PutSecretValue
 * makes it current at once. With it, the value goes under SETUP_WRITE_STAGE and AWSCURRENT moves
 * to it only from `decidedOn`: Secrets Manager refuses the move once AWSCURRENT is elsewhere, and
 * the answer is why the secret is kept (the version put stays unlabelled; AWS deprecates it).
 */
async function writeCurrent(client: SecretsManagerClient, awsId: string, value: string, toVersionId: string, decidedOn: string | undefined): Promise<string | undefined> {
  if (decidedOn === undefined) {
    await client.send(new PutSecretValueCommand({ SecretId: awsId, SecretString: value, ClientRequestToken: toVersionId }));
    return undefined;
  }
  await client.send(new PutSecretValueCommand({ SecretId: awsId, SecretString: value, ClientRequestToken: toVersionId, VersionStages: [SETUP_WRITE_STAGE] }));
  try {
    await moveStage(client, awsId, AWSCURRENT, { to: toVersionId, from: decidedOn });
  } catch (err) {
    if (classifyAwsError(err).code !== 'InvalidParameterException') throw err;
    await moveStage(client, awsId, SETUP_WRITE_STAGE, { to: undefined, from: toVersionId }).catch(() => undefined);
    const now = await readVersions(client, awsId).catch(() => undefined);
    return `AWSCURRENT moved from ${decidedOn} to ${now?.current?.versionId ?? 'another version'} while setup ran (a rotation or rollback); nothing written over it`;
  }
  await moveStage(client, awsId, SETUP_WRITE_STAGE, { to: undefined, from: toVersionId }).catch(() => undefined);
  return undefined;
}

/** The question for one secret, worded for what is stored: the first run has nothing to keep. */
export function promptFor(name: string, spec: SecretSpec<unknown>, isStored: boolean): string {
  if (isStored) return `${name} (${spec.description}; Enter keeps the stored value)`;
  if (spec.required) return `${name} (${spec.description}; required)`;
  if (spec.default !== undefined) return `${name} (${spec.description}; Enter for the default, ${String(spec.default)})`;
  return `${name} (${spec.description}; optional, Enter skips)`;
}

/** The check run on each answer as it is typed. */
export function answerCheck(name: string, spec: SecretSpec<unknown>, isStored: boolean): (answer: string) => true | string {
  return (answer) => {
    if (answer === '') return isStored || !spec.required ? true : `${name} is required and nothing is stored yet: type a value (Ctrl-C stops, nothing is written)`;
    return checkValue(spec, answer);
  };
}

const ACTION_STYLE: Readonly<Record<SetupAction, keyof Style>> = { created: 'ok', updated: 'ok', unchanged: 'dim', kept: 'warn', missing: 'bad', skipped: 'dim' };
const actionText = (r: Pick<SetupRow, 'action' | 'generated'>) => `${r.action}${r.generated ? ' (generated)' : ''}`;

/** One line of the summary: how many secrets got each outcome. */
export function setupSummary(rows: readonly SetupRow[], policiesDir: string): string {
  const count = (a: SetupAction) => rows.filter((r) => r.action === a).length;
  const generated = rows.filter((r) => r.generated).length;
  const missing = rows.filter((r) => r.action === 'missing').map((r) => r.name);
  const parts = [
    `${count('created')} created${generated > 0 ? ` (${generated} generated)` : ''}`,
    `${count('updated')} updated`,
    `${count('unchanged')} unchanged`,
    ...(count('kept') > 0 ? [`${count('kept')} kept (rotated since setup)`] : []),
    `${count('skipped')} optional skipped`,
  ];
  const head = missing.length > 0 ? `Setup incomplete: ${missing.length} required missing (${missing.join(', ')}); ` : 'Setup done: ';
  return `${head}${parts.join(', ')}. IAM policies written to ${policiesDir}`;
}

/** Where a first setup's generatable tokens come from: `tokens generated`, `tokens from FILE`, or each named. */
function tokenOrigin(catalog: CommandContext['catalog'], provided: Readonly<Record<string, string | undefined>>, file: string | undefined): string {
  const tokens = catalog.entries.filter(({ spec }) => spec.generate !== undefined).map(({ name }) => name);
  const given = tokens.filter((name) => (provided[name] ?? '') !== '');
  if (given.length === 0 || file === undefined) return 'tokens generated';
  if (given.length === tokens.length) return `tokens from ${file}`;
  return `${given.join(', ')} from ${file}; ${tokens.filter((name) => !given.includes(name)).join(', ')} generated`;
}

/** What --replica-regions did, in one line (nothing without it). */
function replicationLine(regions: readonly string[], added: number, total: number): string {
  if (regions.length === 0) return '';
  return added === 0
    ? `Replication: every secret is already replicated to ${regions.join(', ')}; nothing changed.\n`
    : `Replication: ${added} of ${total} secrets now replicated to ${regions.join(', ')} (the rest already were).\n`;
}

/** `secrets setup`. */
export async function setupCommand(ctx: CommandContext): Promise<number> {
  const { deps, globals, options, catalog, region, out, style } = ctx;
  const rotationArn = options['enable-rotation'] === undefined ? undefined : rotationFunctionArn(options['enable-rotation']);
  let replicaRegions: string[] = [];
  try {
    replicaRegions = parseReplicaRegions(options['replica-regions'] ?? '', region);
  } catch (err) {
    throw new CliError('USAGE', `--replica-regions: ${(err as Error).message}`);
  }
  const client = deps.secretsManager(globals.aws);
  // Credentials and the endpoint first: nothing is asked, and nothing typed, before the calls can work.
  const caller = await deps.callerArn(globals.aws);
  const stored = await readStoredValues(client, catalog);
  // Writes stay in the primary region: pointed at a replica, setup stops before anything is asked.
  const replicasNow = await assertPrimaryRegion(
    client,
    catalog.entries.filter(({ name }) => stored.get(name) !== undefined).map((e) => e.awsId),
    region,
  );
  const storedCount = [...stored.values()].filter((v) => v !== undefined).length;
  deps.stderr(`Project: ${globals.project}\nEnvironment: ${globals.environment}\nAWS Region: ${region}\nSecret prefix: ${catalog.prefix}\nCaller: ${caller}\n`);
  // Every region that holds (or is about to hold) replicas: the policies must cover them all, not only this run's flag.
  const allReplicaRegions = [...new Set([...replicasNow, ...replicaRegions])];
  deps.stderr(writeRegionLine(region, allReplicaRegions));
  if (caller === 'unknown') deps.stderr('warning: could not read the caller identity (sts get-caller-identity); IAM policies get the placeholder account\n');
  // The file first: the announcement says which tokens it gives and which are generated.
  let provided: Record<string, string | undefined> = {};
  if (options['from-env'] !== undefined) {
    const path = resolve(deps.cwd, options['from-env']);
    try {
      provided = parseDotenv(await readFile(path));
    } catch (err) {
      throw new CliError('NOT_FOUND', `Cannot read ${path} (${errorCode(err)})`, { cause: err });
    }
  }
  // Placeholders are for local development: real AWS never stores one (the local endpoint of npm run dev:aws may).
  const placeholders = catalog.entries.filter(({ name }) => isPlaceholder(provided[name])).map(({ name }) => name);
  if (placeholders.length > 0 && !isLocalEndpoint(globals.aws.endpoint)) {
    throw new CliError('USAGE', `${placeholders.join(', ')} in ${options['from-env'] ?? 'the input'} ${placeholders.length === 1 ? 'is a placeholder' : 'are placeholders'} of .env.example: put the real ${placeholders.length === 1 ? 'value' : 'values'} there first`);
  }
  deps.stderr(
    storedCount === 0
      ? `Nothing is stored under ${catalog.prefix}/ yet: this creates the catalog's secrets (${tokenOrigin(catalog, provided, options['from-env'])}).\n`
      : `${storedCount} of ${catalog.entries.length} secrets exist under ${catalog.prefix}/; missing ones are created, changed values get a new version.\n`,
  );
  if (!options.yes && !(await deps.confirm(storedCount === 0 ? 'Create the secrets?' : 'Continue with setup?'))) throw new CliError('CANCELLED', 'Setup cancelled; nothing changed');
  if (options['terraform-dir'] !== undefined && (provided.DATABASE_URL ?? '') === '') {
    const found = databaseUrlFromTerraform(await deps.terraformOutputs(resolve(deps.cwd, options['terraform-dir'])));
    if (found === undefined) throw new CliError('NOT_FOUND', 'No database_url or RDS endpoint output (rds_endpoint, db_endpoint, database_endpoint) in the Terraform outputs');
    deps.stderr(`Found RDS endpoint from Terraform: ${found.host}\n`);
    provided = { ...provided, DATABASE_URL: found.url };
  }
  if (options['from-env'] === undefined && !options.yes) {
    deps.stderr(`Values are hidden as you type and checked as you enter them.${storedCount > 0 ? ' Enter keeps a stored value.' : ''}\n`);
    for (const { name, spec } of catalog.entries) {
      if (spec.generate !== undefined || provided[name] !== undefined) continue;
      const isStored = stored.get(name) !== undefined;
      provided[name] = await deps.promptSecret(promptFor(name, spec, isStored), answerCheck(name, spec, isStored));
    }
  }

  const widths = columnWidths(catalog.entries.map(({ name, awsId }) => [name, actionText({ action: 'unchanged', generated: true }), awsId]));
  const progress = ctx.progress();
  const rows = await setupSecrets({
    client,
    catalog,
    provided,
    stored,
    tags: { project: globals.project, environment: globals.environment },
    overwrite: new Set(options.overwrite ?? []),
    force: options.force === true,
    nowMs: deps.now(),
    rotationLog: (name) => {
      const kind = rotationKindOf(name);
      return kind === undefined ? undefined : resolve(deps.cwd, options['rotation-log'] ?? rotationLogPath(kind));
    },
    onStart: (name) => progress.working(`${name}...`),
    onRow: (r) => progress.done(formatRow([r.name, { text: actionText(r), style: style[ACTION_STYLE[r.action]] }, r.secretId] satisfies Cell[], widths)),
    replicaRegions,
  });
  progress.finish();
  for (const r of rows.filter((x) => x.action === 'kept')) {
    deps.stderr(`${r.name} was rotated since setup wrote it (${r.reason ?? 'rotated'}): kept; --overwrite ${r.name} replaces it with the file's value on purpose\n`);
  }
  await logOverwrites(ctx, rows);
  const replication: ReplicationRow[] = replicaRegions.length === 0 ? [] : await replicateSecrets(client, catalog, replicaRegions);
  const replicated = replication.filter((r) => r.added.length > 0);
  const account = /^arn:aws[a-z-]*:[^:]+::(\d{12}):/.exec(caller)?.[1] ?? '123456789012';
  const policiesDir = resolve(deps.cwd, options['policies-dir'] ?? options.out ?? DEFAULT_SETUP_POLICIES_DIR);
  const written = await writePolicies({ account, region, prefix: catalog.prefix, ...(allReplicaRegions.length > 0 && { replicaRegions: allReplicaRegions }) }, policiesDir);
  const schedules = rotationArn === undefined ? [] : await enableRotation(client, catalog, rotationArn);
  const summary = setupSummary(rows, policiesDir);
  out(
    {
      prefix: catalog.prefix,
      secrets: rows,
      policies: written,
      summary,
      ...(rotationArn !== undefined && { rotation: schedules }),
      ...(replicaRegions.length > 0 && { replicaRegions, replication }),
    },
    `${scheduleLines(schedules, rotationArn ?? '')}${replicationLine(replicaRegions, replicated.length, replication.length)}${rows.some((r) => r.action === 'missing') ? style.bad(summary) : summary}\n`,
  );
  return rows.some((r) => r.action === 'missing') ? EXIT_CODES.FAILED : EXIT_CODES.OK;
}

/** One rotation-log line per rotated secret that --overwrite replaced; a failure only warns (the write is done). */
async function logOverwrites(ctx: CommandContext, rows: readonly SetupRow[]): Promise<void> {
  const { deps, globals, options } = ctx;
  for (const r of rows) {
    const kind = rotationKindOf(r.name);
    if (r.action !== 'updated' || r.toVersionId === undefined || kind === undefined) continue;
    const logPath = resolve(deps.cwd, options['rotation-log'] ?? rotationLogPath(kind));
    try {
      await appendRotationLog(logPath, {
        at: new Date(deps.now()).toISOString(),
        action: 'overwrite',
        secretId: r.secretId,
        fromVersionId: r.fromVersionId ?? null,
        toVersionId: r.toVersionId,
        caller: await deps.callerArn(globals.aws),
      });
    } catch (err) {
      deps.stderr(`warning: ${r.name} was overwritten (AWSCURRENT is now ${r.toVersionId}); could not append to ${logPath} (${errorCode(err)})\n`);
    }
  }
}
