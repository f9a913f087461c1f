import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { adminTokenRotation, metaVerifyTokenRotation, readValue, type FinishMode, type RotationModule, type TokenDeps } from '../rotation/index.js';
import type { CommandContext } from './command-context.js';
import { CliError } from './errors.js';

/** What `secrets rotate <kind>` needs to know about a kind beyond its rotation module. */
export interface CliRotationKind<D> {
  readonly module: RotationModule<D>;
  /** Builds the module's dependencies from the command's options; `close` releases connections. */
  deps(ctx: CommandContext, client: SecretsManagerClient): Promise<{ readonly deps: D; close(): Promise<void> }>;
  /** `--strategy` values this kind takes; the first is the default. */
  readonly strategies: readonly string[];
  /** How finishSecret leaves the replaced value under a strategy. */
  finishMode(strategy: string): FinishMode;
  /** One sentence for the confirmation: what the strategy means for the old value. */
  effect(strategy: string): string;
  /** Printed after a rotation. */
  readonly checklist: string;
  /** `secrets rollback <kind>` may move its labels back (a token; never a password already changed at its resource). */
  readonly rollback: boolean;
}

export const ADMIN_TOKEN_CHECKLIST = [
  'POST-ROTATION CHECKLIST:',
  '  [ ] Update CI/CD pipelines with new token',
  '  [ ] Update monitoring/alerting tools',
  '  [ ] Verify application is using new token (secrets verify admin-token --url URL)',
  '  [ ] Delete the new-token file securely once distributed',
  '  [ ] Schedule next rotation (recommended: 90 days; or let Secrets Manager do it: secrets setup --enable-rotation ARN)',
].join('\n');

export const META_VERIFY_TOKEN_CHECKLIST = [
  'POST-ROTATION CHECKLIST:',
  "  [ ] Enter the new token in Meta's App Dashboard (WhatsApp > Configuration > Webhook > Verify token) and verify the callback URL",
  '  [ ] Delete the new-token file securely once entered',
].join('\n');

/** With --url, token rotations test that the service there reads the secret being rotated. */
async function tokenDeps(ctx: CommandContext, client: SecretsManagerClient): Promise<{ deps: TokenDeps; close(): Promise<void> }> {
  const url = ctx.o.url;
  const close = async () => {};
  if (url === undefined) return { deps: {}, close };
  const adminId = ctx.catalog.entry('ADMIN_TOKEN')!.awsId;
  const adminToken = async () => {
    const current = await readValue(client, adminId, { stage: 'AWSCURRENT' });
    if (current === undefined) throw new CliError('NOT_FOUND', `${adminId} has no AWSCURRENT value`);
    return current.value;
  };
  return { deps: { service: { url, fetch: ctx.deps.fetch, adminToken } }, close };
}

/** Tokens: `immediate` (default) refuses the old one once instances refresh; `graceful` keeps it for the grace window. */
const tokenStrategies = {
  strategies: ['immediate', 'graceful'],
  finishMode: (strategy: string): FinishMode => (strategy === 'graceful' ? 'graceful' : 'immediate'),
  effect: (strategy: string) => (strategy === 'graceful' ? 'Both tokens work during the grace window.' : 'The old token stops working as soon as instances refresh.'),
} as const;

export const CLI_ROTATION_KINDS: readonly CliRotationKind<unknown>[] = [
  { module: adminTokenRotation, deps: tokenDeps, ...tokenStrategies, checklist: ADMIN_TOKEN_CHECKLIST, rollback: true },
  { module: metaVerifyTokenRotation, deps: tokenDeps, ...tokenStrategies, checklist: META_VERIFY_TOKEN_CHECKLIST, rollback: true },
];

export function cliRotationKinds(filter: (k: CliRotationKind<unknown>) => boolean = () => true): string[] {
  return CLI_ROTATION_KINDS.filter(filter).map((k) => k.module.kind);
}

export function cliRotationKind(kind: string): CliRotationKind<unknown> {
  const found = CLI_ROTATION_KINDS.find((k) => k.module.kind === kind);
  if (found === undefined) throw new CliError('USAGE', `Unknown secret ${JSON.stringify(kind.slice(0, 40))}`);
  return found;
}
