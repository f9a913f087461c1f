import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse as parseDotenv } from 'dotenv';
import { type Catalog, classifyAwsError } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, CliError, fromAwsError } from '../errors.js';
import { enableRotation, rotationFunctionArn, scheduleLines } from '../enable-rotation.js';
import { databaseUrlFromTerraform } from '../terraform-database-url.js';
import { writePolicies } from './iam.js';

export type SetupAction = 'created' | 'updated' | 'unchanged' | 'missing' | 'skipped';

export interface SetupRow {
  readonly name: string;
  readonly secretId: string;
  readonly action: SetupAction;
  readonly generated: boolean;
}

export interface SetupInput {
  readonly client: SecretsManagerClient;
  readonly catalog: Catalog;
  /** Values the operator gave (from --from-env or prompts); absent names are left alone. */
  readonly provided: Readonly<Record<string, string | undefined>>;
  readonly tags: { readonly project: string; readonly environment: string };
}

async function currentValue(client: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString ?? '';
  } catch (err) {
    if (classifyAwsError(err).code === 'ResourceNotFoundException') return undefined;
    throw fromAwsError(err, secretId);
  }
}

/**
 * `secrets setup`: creates missing secrets (generating the tokens the catalog marks so), and
 * writes a new version only where a given value differs from the stored one: AWS keeps at most
 * 100 versions, and an unchanged value must not cost one. Re-running changes nothing.
 */
export async function setupSecrets(input: SetupInput): Promise<SetupRow[]> {
  const { client, catalog, provided, tags } = input;
  for (const { name, spec } of catalog.entries) {
    const value = provided[name];
    if (value === undefined || value === '') continue;
    const parsed = spec.kind.parse(value);
    if (!parsed.ok) throw new CliError('USAGE', `Value given for ${name} is invalid: ${parsed.reason} (expected ${spec.kind.label})`);
  }
  const rows: SetupRow[] = [];
  for (const { name, awsId, spec } of catalog.entries) {
    const existing = await currentValue(client, awsId);
    let value = provided[name] === '' ? undefined : provided[name];
    let generated = false;
    if (value === undefined && existing === undefined && spec.generate !== undefined) {
      value = randomBytes(spec.generate.bytes).toString('base64');
      generated = true;
    }
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
          }),
        );
        rows.push({ name, secretId: awsId, action: 'created', generated });
      } else if (existing !== undefined && value !== undefined && value !== existing) {
        await client.send(new PutSecretValueCommand({ SecretId: awsId, SecretString: value }));
        rows.push({ name, secretId: awsId, action: 'updated', generated });
      } else {
        rows.push({ name, secretId: awsId, action: existing !== undefined ? 'unchanged' : spec.required ? 'missing' : 'skipped', generated });
      }
    } catch (err) {
      throw fromAwsError(err, awsId);
    }
  }
  return rows;
}

/** `secrets setup`. */
export async function setupCommand(ctx: CommandContext): Promise<number> {
  const { deps, g, o, catalog, region, out } = ctx;
  const rotationArn = o['enable-rotation'] === undefined ? undefined : rotationFunctionArn(o['enable-rotation']);
  const caller = await deps.callerArn(g.aws);
  deps.stderr(`Project: ${g.project}\nEnvironment: ${g.environment}\nAWS Region: ${region}\nSecret prefix: ${catalog.prefix}\nCaller: ${caller}\n`);
  if (caller === 'unknown') deps.stderr('warning: could not read the caller identity (sts get-caller-identity); check your AWS credentials\n');
  if (!o.yes && !(await deps.confirm('Continue with setup?'))) throw new CliError('CANCELLED', 'Setup cancelled; nothing changed');
  let provided: Record<string, string | undefined> = {};
  if (o['from-env'] !== undefined) {
    const path = resolve(deps.cwd, o['from-env']);
    try {
      provided = parseDotenv(await readFile(path));
    } catch (err) {
      throw new CliError('NOT_FOUND', `Cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  } else if (!o.yes) {
    for (const { name, spec } of catalog.entries) {
      if (spec.generate !== undefined) continue;
      provided[name] = await deps.promptSecret(`${name} (${spec.description}; empty keeps the stored value)`);
    }
  }
  if (o['terraform-dir'] !== undefined && (provided.DATABASE_URL ?? '') === '') {
    const found = databaseUrlFromTerraform(await deps.terraformOutputs(resolve(deps.cwd, o['terraform-dir'])));
    if (found === undefined) throw new CliError('NOT_FOUND', 'No database_url or RDS endpoint output (rds_endpoint, db_endpoint, database_endpoint) in the Terraform outputs');
    deps.stderr(`Found RDS endpoint from Terraform: ${found.host}\n`);
    provided = { ...provided, DATABASE_URL: found.url };
  }
  const rows = await setupSecrets({ client: deps.secretsManager(g.aws), catalog, provided, tags: { project: g.project, environment: g.environment } });
  const schedules = rotationArn === undefined ? [] : await enableRotation(deps.secretsManager(g.aws), catalog, rotationArn);
  const account = /^arn:aws[a-z-]*:[^:]+::(\d{12}):/.exec(caller)?.[1] ?? '123456789012';
  const written = await writePolicies({ account, region, prefix: catalog.prefix }, resolve(deps.cwd, o.out ?? 'iam-policies'));
  out(
    { prefix: catalog.prefix, secrets: rows, policies: written, ...(rotationArn !== undefined && { rotation: schedules }) },
    `${rows.map((r) => `${r.name.padEnd(26)} ${r.action}${r.generated ? ' (generated)' : ''}  ${r.secretId}`).join('\n')}\n${scheduleLines(schedules, rotationArn ?? '')}IAM policies written to ${resolve(deps.cwd, o.out ?? 'iam-policies')}\n`,
  );
  return rows.some((r) => r.action === 'missing') ? EXIT_CODES.FAILED : EXIT_CODES.OK;
}
