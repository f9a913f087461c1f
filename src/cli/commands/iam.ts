import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseReplicaRegions } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';
import { buildPolicies, POLICY_FILES, type PolicyScope } from '../iam-policies.js';
import { logGroupOption } from './alarms.js';

/** `secrets iam`: writes the least-privilege policies (the optional alarms one too); returns the paths written. */
export async function writePolicies(scope: PolicyScope, outDir: string): Promise<string[]> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const policies = buildPolicies(scope);
  const written: string[] = [];
  for (const [key, file] of Object.entries(POLICY_FILES) as [keyof typeof POLICY_FILES, string][]) {
    const path = join(dir, file);
    await writeFile(path, `${JSON.stringify(policies[key], null, 2)}\n`);
    written.push(path);
  }
  return written;
}

/** `secrets iam`. */
export async function iamCommand(ctx: CommandContext): Promise<number> {
  const { deps, options, catalog, region, out } = ctx;
  const account = options.account ?? '123456789012';
  if (!/^\d{12}$/.test(account)) throw new CliError('USAGE', '--account must be a 12-digit AWS account id');
  const prefix = options.prefix ?? catalog.prefix;
  if (!/^[a-z0-9][a-z0-9/-]*$/.test(prefix)) throw new CliError('USAGE', '--prefix must be lowercase letters, digits, dashes and slashes');
  const cloudTrailLogGroup = logGroupOption(options['cloudtrail-log-group'], '--cloudtrail-log-group');
  const serviceLogGroup = logGroupOption(options['service-log-group'], '--service-log-group');
  let replicaRegions: string[];
  try {
    replicaRegions = parseReplicaRegions(options['replica-regions'] ?? '', region);
  } catch (err) {
    throw new CliError('USAGE', `--replica-regions: ${(err as Error).message}`);
  }
  const scope: PolicyScope = { account, region, prefix, ...(replicaRegions.length > 0 && { replicaRegions }), ...(cloudTrailLogGroup !== undefined && { cloudTrailLogGroup }), ...(serviceLogGroup !== undefined && { serviceLogGroup }) };
  const written = await writePolicies(scope, resolve(deps.cwd, options.out ?? 'iam-policies'));
  out({ written }, `Wrote:\n${written.map((p) => `  ${p}`).join('\n')}\n`);
  return EXIT_CODES.OK;
}
