import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse as parseDotenv } from 'dotenv';
import { classifyAwsError, errorCode, parseReplicaRegions, type Catalog, type SecretSpec } from '../../engine/index.js';
import { generateToken } from '../../provisioning/generate-token.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, CliError, fromAwsError } from '../errors.js';
import { enableRotation, rotationFunctionArn, scheduleLines } from '../enable-rotation.js';
import { invalidReason } from '../invalid-reason.js';
import { assertPrimaryRegion, replicateSecrets, writeRegionLine, type ReplicationRow } from '../replication.js';
import type { Style } from '../style.js';
import { columnWidths, formatRow, type Cell } from '../table.js';
import { databaseUrlFromTerraform } from '../terraform-database-url.js';
import { writePolicies } from './iam.js';
import { isLocalEndpoint, isPlaceholder } from '../../provisioning/placeholder.js';

export type SetupAction = 'created' | 'updated' | 'unchanged' | 'missing' | 'skipped';

export interface SetupRow {
  readonly name: string;
  readonly secretId: string;
  readonly action: SetupAction;
  readonly generated: boolean;
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
  const { client, catalog, provided, stored, tags, onRow, onStart, replicaRegions = [] } = input;
  for (const { name, spec } of catalog.entries) {
    const value = provided[name];
    if (value === undefined || value === '') continue;
    const checked = checkValue(spec, value);
    if (checked !== true) throw new CliError('USAGE', `Value given for ${name} is invalid: ${checked}`);
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
    let action: SetupAction;
    try {
      if (existing === undefined && value !== undefined) {
        await client.send(
          new CreateSecretCommand({
            Name: awsId,
            Description: spec.description,
            SecretString: value,
            Tags: [
              { Key: 'Project', Value: tags.project },
              { Key: 'Environment', Value: tags.environment },
            ],
            ...(replicaRegions.length > 0 && { AddReplicaRegions: replicaRegions.map((Region) => ({ Region })) }),
          }),
        );
        action = 'created';
      } else if (existing !== undefined && value !== undefined && value !== existing) {
        await client.send(new PutSecretValueCommand({ SecretId: awsId, SecretString: value }));
        action = 'updated';
      } else {
        action = existing !== undefined ? 'unchanged' : spec.required ? 'missing' : 'skipped';
      }
    } catch (err) {
      throw fromAwsError(err, awsId);
    }
    const row = { name, secretId: awsId, action, generated };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
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

const ACTION_STYLE: Readonly<Record<SetupAction, keyof Style>> = { created: 'ok', updated: 'ok', unchanged: 'dim', missing: 'bad', skipped: 'dim' };
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
  deps.stderr(writeRegionLine(region, [...new Set([...replicasNow, ...replicaRegions])]));
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
    onStart: (name) => progress.working(`${name}...`),
    onRow: (r) => progress.done(formatRow([r.name, { text: actionText(r), style: style[ACTION_STYLE[r.action]] }, r.secretId] satisfies Cell[], widths)),
    replicaRegions,
  });
  progress.finish();
  const replication: ReplicationRow[] = replicaRegions.length === 0 ? [] : await replicateSecrets(client, catalog, replicaRegions);
  const replicated = replication.filter((r) => r.added.length > 0);
  const account = /^arn:aws[a-z-]*:[^:]+::(\d{12}):/.exec(caller)?.[1] ?? '123456789012';
  const policiesDir = resolve(deps.cwd, options['policies-dir'] ?? options.out ?? DEFAULT_SETUP_POLICIES_DIR);
  const written = await writePolicies({ account, region, prefix: catalog.prefix, ...(replicaRegions.length > 0 && { replicaRegions }) }, policiesDir);
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
