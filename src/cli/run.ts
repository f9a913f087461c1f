import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { whatsappSaasCatalog } from '../catalog/whatsapp-saas.js';
import { createEnvFile } from '../service/env-file-bootstrap.js';
import type { CliDeps, GlobalOptions } from './deps.js';
import { CliError, EXIT_CODES, fromAwsError } from './errors.js';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readFile } from 'node:fs/promises';
import { parse as parseDotenv } from 'dotenv';
import { checkEnvFile } from './commands/check.js';
import { setupSecrets } from './commands/setup.js';
import { databaseUrlFromTerraform } from './terraform-database-url.js';
import { writePolicies } from './commands/iam.js';
import { rollback } from './commands/rollback.js';
import { POST_ROTATION_CHECKLIST, reserveTokenFile, rotate } from './commands/rotate.js';
import { secretStates } from './commands/status.js';
import { verifyAdminToken } from './commands/verify.js';
import { appendRotationLog, DEFAULT_ROTATION_LOG } from './rotation-log.js';
import { helpFor } from './help.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  profile: { type: 'string' },
  project: { type: 'string' },
  environment: { type: 'string' },
  strategy: { type: 'string' },
  'save-token': { type: 'string' },
  print: { type: 'boolean' },
  notify: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  url: { type: 'string' },
  account: { type: 'string' },
  prefix: { type: 'string' },
  out: { type: 'string' },
  'env-file': { type: 'string' },
  'rotation-log': { type: 'string' },
  'from-env': { type: 'string' },
  'terraform-dir': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Runs one CLI invocation and returns its exit code; only the bin entry exits. */
export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    return await dispatch(argv, deps);
  } catch (err) {
    const e = err instanceof CliError ? err : new CliError('FAILED', `Unexpected failure (${(err as Error)?.name ?? 'Error'})`);
    deps.stderr(`error: ${e.message}\n`);
    if (e.code === 'USAGE') deps.stderr('Run "secrets --help" for usage.\n');
    return EXIT_CODES[e.code];
  }
}

async function dispatch(argv: readonly string[], deps: CliDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError('USAGE', (err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const { values: o, positionals } = parsed;
  const [command, target, ...extra] = positionals;
  if (o.help || command === undefined || command === 'help') {
    deps.stdout(helpFor(command === 'help' ? target : command));
    return command === undefined && !o.help ? EXIT_CODES.USAGE : EXIT_CODES.OK;
  }
  const region = o.region ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = o['endpoint-url'] ?? deps.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? deps.env.AWS_ENDPOINT_URL;
  const profile = o.profile ?? deps.env.AWS_PROFILE;
  const g: GlobalOptions = {
    json: o.json === true,
    aws: { region, ...(endpoint !== undefined && { endpoint }), ...(profile !== undefined && { profile }) },
    project: o.project ?? deps.env.SECRETS_PROJECT ?? 'whatsapp-saas',
    environment: o.environment ?? deps.env.SECRETS_ENVIRONMENT ?? 'mvp',
  };
  let catalog;
  try {
    catalog = whatsappSaasCatalog({ project: g.project, environment: g.environment });
  } catch (err) {
    throw new CliError('USAGE', (err as Error).message);
  }
  const needsAdminToken = () => {
    if (target !== 'admin-token' || extra.length > 0) throw new CliError('USAGE', `${command} takes exactly one secret: admin-token`);
    return catalog.entry('ADMIN_TOKEN')!.awsId;
  };
  const out = (data: unknown, text: string) => deps.stdout(g.json ? `${JSON.stringify(data, null, 2)}\n` : text);
  const envFile = resolve(deps.cwd, o['env-file'] ?? '.env');

  switch (command) {
    case 'setup': {
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
      const account = /^arn:aws[a-z-]*:[^:]+::(\d{12}):/.exec(caller)?.[1] ?? '123456789012';
      const written = await writePolicies({ account, region, prefix: catalog.prefix }, resolve(deps.cwd, o.out ?? 'iam-policies'));
      out(
        { prefix: catalog.prefix, secrets: rows, policies: written },
        `${rows.map((r) => `${r.name.padEnd(26)} ${r.action}${r.generated ? ' (generated)' : ''}  ${r.secretId}`).join('\n')}\nIAM policies written to ${resolve(deps.cwd, o.out ?? 'iam-policies')}\n`,
      );
      return rows.some((r) => r.action === 'missing') ? EXIT_CODES.FAILED : EXIT_CODES.OK;
    }
    case 'status': {
      const states = await secretStates(deps.secretsManager(g.aws), catalog, deps.now());
      const rows = states.map((s) =>
        [s.name.padEnd(26), (s.exists ? 'yes' : 'MISSING').padEnd(8), (s.versionId ?? '-').padEnd(38), (s.lastChanged ?? '-').padEnd(25), `${s.schedule} (${s.rotation})`].join(' '),
      );
      out({ region, prefix: catalog.prefix, secrets: states }, `Region: ${region}  Prefix: ${catalog.prefix}\n${['SECRET'.padEnd(26), 'EXISTS'.padEnd(8), 'VERSION'.padEnd(38), 'LAST CHANGED'.padEnd(25), 'ROTATION'].join(' ')}\n${rows.join('\n')}\n`);
      return states.every((s) => s.exists || !catalog.entry(s.name)!.spec.required) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
    }
    case 'rotate': {
      const secretId = needsAdminToken();
      const strategy = o.strategy ?? 'immediate';
      if (strategy !== 'immediate' && strategy !== 'graceful') throw new CliError('USAGE', '--strategy must be immediate or graceful');
      if (o.print && o['save-token'] !== undefined) throw new CliError('USAGE', 'use --print or --save-token, not both');
      if (!o.yes && !(await deps.confirm(`Rotate ${secretId} (${strategy})? ${strategy === 'immediate' ? 'The old token stops working as soon as instances refresh.' : 'Both tokens work during the grace window.'}`))) {
        throw new CliError('CANCELLED', 'Rotation cancelled; nothing changed');
      }
      const stamp = new Date(deps.now()).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      const tokenPath = o.print ? undefined : resolve(deps.cwd, o['save-token'] ?? `.admin-token-new-${stamp}.txt`);
      const tokenFile = tokenPath === undefined ? undefined : await reserveTokenFile(tokenPath);
      let result;
      try {
        result = await rotate({ client: deps.secretsManager(g.aws), secretId, strategy, force: o.force === true, now: deps.now() });
      } catch (err) {
        await tokenFile?.discard();
        throw err;
      }
      await tokenFile?.write(result.newToken);
      await appendRotationLog(resolve(deps.cwd, o['rotation-log'] ?? DEFAULT_ROTATION_LOG), {
        at: new Date(deps.now()).toISOString(),
        action: 'rotate',
        secretId,
        fromVersionId: result.fromVersionId,
        toVersionId: result.toVersionId,
        strategy,
        caller: await deps.callerArn(g.aws),
      });
      const notified = await notify(o.notify ?? [], result.oldToken, deps);
      if (o.print) deps.stdout(`${result.newToken}\n`);
      const summary = { secretId, strategy, fromVersionId: result.fromVersionId, toVersionId: result.toVersionId, tokenFile: tokenPath ?? null, notified };
      const lines = [
        `Rotated ${secretId} (${strategy}): ${result.fromVersionId ?? '-'} -> ${result.toVersionId}`,
        tokenPath !== undefined ? `New admin token saved to: ${tokenPath} (mode 0600)` : '',
        ...notified.map((n) => `Notified ${n.url}: ${n.ok ? 'refreshed' : `failed (${n.status})`}`),
        '',
        POST_ROTATION_CHECKLIST,
        '',
      ];
      (o.print ? deps.stderr : deps.stdout)(g.json && !o.print ? `${JSON.stringify(summary, null, 2)}\n` : lines.filter((l, i) => l !== '' || i > 1).join('\n'));
      return notified.every((n) => n.ok) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
    }
    case 'rollback': {
      const secretId = needsAdminToken();
      if (!o.yes && !(await deps.confirm(`Move AWSCURRENT of ${secretId} back to its AWSPREVIOUS version?`))) {
        throw new CliError('CANCELLED', 'Rollback cancelled; nothing changed');
      }
      const result = await rollback(deps.secretsManager(g.aws), secretId);
      await appendRotationLog(resolve(deps.cwd, o['rotation-log'] ?? DEFAULT_ROTATION_LOG), {
        at: new Date(deps.now()).toISOString(),
        action: 'rollback',
        secretId,
        fromVersionId: result.fromVersionId,
        toVersionId: result.toVersionId,
        caller: await deps.callerArn(g.aws),
      });
      // Until they refresh, running instances hold the version rolled away from as current: it authenticates the notice.
      const notified = o.notify === undefined ? [] : await notify(o.notify, await versionValue(deps.secretsManager(g.aws), secretId, result.fromVersionId), deps);
      out(
        { secretId, ...result, notified },
        [
          `Rolled back ${secretId}: AWSCURRENT ${result.fromVersionId} -> ${result.toVersionId}`,
          ...notified.map((n) => `Notified ${n.url}: ${n.ok ? 'refreshed' : `failed (${n.status})`}`),
          ...(notified.length === 0 ? ['Refresh the service: POST /admin/refresh-secrets (or --notify URL)'] : []),
          '',
        ].join('\n'),
      );
      return notified.every((n) => n.ok) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
    }
    case 'verify': {
      const secretId = needsAdminToken();
      const checks = await verifyAdminToken(deps.secretsManager(g.aws), secretId, o.url, deps.fetch);
      out({ secretId, checks }, `${checks.map((c) => `[${c.ok ? 'OK' : 'FAIL'}] ${c.check}: ${c.detail}`).join('\n')}\n`);
      return checks.every((c) => c.ok) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
    }
    case 'iam': {
      const account = o.account ?? '123456789012';
      if (!/^\d{12}$/.test(account)) throw new CliError('USAGE', '--account must be a 12-digit AWS account id');
      const prefix = o.prefix ?? catalog.prefix;
      if (!/^[a-z0-9][a-z0-9/-]*$/.test(prefix)) throw new CliError('USAGE', '--prefix must be lowercase letters, digits, dashes and slashes');
      const written = await writePolicies({ account, region, prefix }, resolve(deps.cwd, o.out ?? 'iam-policies'));
      out({ written }, `Wrote:\n${written.map((p) => `  ${p}`).join('\n')}\n`);
      return EXIT_CODES.OK;
    }
    case 'init': {
      const { created, path } = await createEnvFile({ path: envFile, examplePath: resolve(deps.cwd, '.env.example') });
      out({ created, path }, created ? `Created ${path} (mode 0600) with generated ADMIN_TOKEN and META_VERIFY_TOKEN\n` : `${path} exists; left unchanged\n`);
      return EXIT_CODES.OK;
    }
    case 'check': {
      const findings = await checkEnvFile(envFile, catalog);
      out({ path: envFile, findings }, findings.length === 0 ? `${envFile}: all catalog secrets present and valid\n` : `${findings.map((f) => `${f.problem.toUpperCase()} ${f.name}: ${f.detail}`).join('\n')}\n`);
      return findings.some((f) => f.problem !== 'unknown') ? EXIT_CODES.FAILED : EXIT_CODES.OK;
    }
    default:
      throw new CliError('USAGE', `Unknown command ${JSON.stringify(command.slice(0, 40))}`);
  }
}

interface Notified {
  readonly url: string;
  readonly ok: boolean;
  readonly status: number;
}

/** Asks each running service to refresh (it tells its peers over Redis). */
async function notify(urls: readonly string[], token: string | undefined, deps: CliDeps): Promise<Notified[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        const res = await deps.fetch(new URL('/admin/refresh-secrets', url), {
          method: 'POST',
          headers: token !== undefined ? { 'x-admin-token': token } : {},
          signal: AbortSignal.timeout(5_000),
        });
        await res.arrayBuffer();
        return { url, ok: res.ok, status: res.status };
      } catch {
        return { url, ok: false, status: 0 };
      }
    }),
  );
}

/** One version's value, only to authenticate a refresh notice; never printed. */
async function versionValue(client: SecretsManagerClient, secretId: string, versionId: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }))).SecretString;
  } catch (err) {
    throw fromAwsError(err, secretId);
  }
}
