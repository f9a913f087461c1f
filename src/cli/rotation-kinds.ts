import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  adminTokenRotation,
  databasePasswordRotation,
  masterArnOf,
  metaVerifyTokenRotation,
  readPostgresSecret,
  readRedisSecret,
  readValue,
  redisPasswordRotation,
  type DatabaseDeps,
  type DatabaseStrategy,
  type FinishMode,
  type RedisDeps,
  type RotationModule,
  type TokenDeps,
} from '../rotation/index.js';
import { readAdminToken } from './admin-token.js';
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
  /**
   * `secrets rollback <kind>` takes it: tokens move their labels back; database and Redis
   * passwords only together with the password at the server (see credential-rollback.ts).
   */
  readonly rollback: boolean;
  /** Credentials: the login user of a value, which decides how it is rolled back (same user: a rotation back to the previous password). */
  userOf?(value: string, secretId: string): string;
  /**
   * Publish a refresh notice on Redis after the switch (the Redis push, besides --notify):
   * credentials, whose old value the engine does not keep accepting.
   */
  readonly announce?: boolean;
  /**
   * What still holds while a version is pending and its setSecret may have run, for the message
   * of a rotation that stopped half way. Tokens say it themselves (the old token still works).
   */
  pendingNote?(strategy: string): string;
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

export const DATABASE_PASSWORD_CHECKLIST = [
  'POST-ROTATION CHECKLIST:',
  '  [ ] Check that every instance reports the new version of DATABASE_URL (GET /admin/secrets/health) or pass them all to --notify',
  '  [ ] Single-user: nothing else; alternating-users: the previous role keeps its password until the rotation after next',
  '  [ ] Or let Secrets Manager rotate it every 30 days: secrets setup --enable-rotation ARN',
].join('\n');

export const REDIS_PASSWORD_CHECKLIST = [
  'POST-ROTATION CHECKLIST:',
  '  [ ] Check that every instance reports the new version of REDIS_URL (GET /admin/secrets/health) or pass them all to --notify',
  '  [ ] Or let Secrets Manager rotate it every 30 days: secrets setup --enable-rotation ARN',
].join('\n');

/** Options only the credential kinds take, or only the token kinds. */
function refuseOptions(ctx: CommandContext, kind: string, names: readonly ('url' | 'master-secret' | 'print' | 'save-token')[]): void {
  for (const name of names) {
    if (ctx.options[name] !== undefined) throw new CliError('USAGE', `rotate ${kind} takes no --${name}`);
  }
}

/** With --url, token rotations test that the service there reads the secret being rotated. */
const tokenDeps = (kind: string) => async (ctx: CommandContext, client: SecretsManagerClient): Promise<{ deps: TokenDeps; close(): Promise<void> }> => {
  refuseOptions(ctx, kind, ['master-secret']);
  const url = ctx.options.url;
  const close = async () => {};
  if (url === undefined) return { deps: {}, close };
  const adminToken = () => readAdminToken(client, ctx.catalog);
  return { deps: { service: { url, fetch: ctx.deps.fetch, adminToken } }, close };
};

/** Tokens: `immediate` (default) refuses the old one once instances refresh; `graceful` keeps it for the grace window. */
const tokenStrategies = {
  strategies: ['immediate', 'graceful'],
  finishMode: (strategy: string): FinishMode => (strategy === 'graceful' ? 'graceful' : 'immediate'),
  effect: (strategy: string) => (strategy === 'graceful' ? 'Both tokens work during the grace window.' : 'The old token stops working as soon as instances refresh.'),
} as const;

const nothingToClose = async () => {};

/**
 * database-password: the strategy from --strategy, the master secret from --master-secret (else
 * the secret's `masterarn`), checked before anything is asked: alternating-users cannot start
 * without one.
 */
async function databaseDeps(ctx: CommandContext, client: SecretsManagerClient): Promise<{ deps: DatabaseDeps; close(): Promise<void> }> {
  refuseOptions(ctx, 'database-password', ['url', 'print', 'save-token']);
  const strategy = (ctx.options.strategy ?? 'single-user') as DatabaseStrategy;
  const master = ctx.options['master-secret'];
  if (strategy === 'alternating-users' && master === undefined) {
    const secretId = ctx.catalog.entry('DATABASE_URL')!.awsId;
    const current = await readValue(client, secretId, { stage: 'AWSCURRENT' });
    if (current !== undefined && masterArnOf(current.value) === undefined) {
      throw new CliError('USAGE', `--strategy alternating-users needs --master-secret ID (a secret with a superuser or CREATEROLE login at ${secretId}'s server), or masterarn in the secret's JSON`);
    }
  }
  return { deps: { strategy, sql: ctx.deps.credentialClients.sql, ...(master !== undefined && { masterSecretId: master }) }, close: nothingToClose };
}

async function redisDeps(ctx: CommandContext): Promise<{ deps: RedisDeps; close(): Promise<void> }> {
  refuseOptions(ctx, 'redis-password', ['url', 'print', 'save-token']);
  const master = ctx.options['master-secret'];
  return { deps: { redis: ctx.deps.credentialClients.redis, ...(master !== undefined && { masterSecretId: master }) }, close: nothingToClose };
}

const graceful = (): FinishMode => 'graceful';

export const CLI_ROTATION_KINDS: readonly CliRotationKind<unknown>[] = [
  { module: adminTokenRotation, deps: tokenDeps('admin-token'), ...tokenStrategies, checklist: ADMIN_TOKEN_CHECKLIST, rollback: true },
  { module: metaVerifyTokenRotation, deps: tokenDeps('meta-verify-token'), ...tokenStrategies, checklist: META_VERIFY_TOKEN_CHECKLIST, rollback: true },
  {
    module: databasePasswordRotation,
    deps: databaseDeps,
    strategies: ['single-user', 'alternating-users'],
    finishMode: graceful,
    effect: (strategy) =>
      strategy === 'alternating-users'
        ? 'The secret moves to the other role of the pair with a new password; the current role keeps working.'
        : 'The role gets a new password; open connections keep working, and new ones with the old password are refused until instances refresh (they retry).',
    pendingNote: (strategy) =>
      strategy === 'alternating-users'
        ? 'the current role still works'
        : 'the role may already have the new password, so new connections with the old one are refused (instances refresh and retry); finish it now',
    checklist: DATABASE_PASSWORD_CHECKLIST,
    rollback: true,
    userOf: (value, secretId) => readPostgresSecret(value, secretId).user,
    announce: true,
  },
  {
    module: redisPasswordRotation,
    deps: redisDeps,
    strategies: ['single-user'],
    finishMode: graceful,
    effect: () => 'The ACL user gets a second password; the old one is removed once every instance named by --notify has switched.',
    pendingNote: () => 'the old password still works (the new one may work too)',
    checklist: REDIS_PASSWORD_CHECKLIST,
    rollback: true,
    userOf: (value, secretId) => readRedisSecret(value, secretId).user,
    announce: true,
  },
];

export function cliRotationKinds(filter: (k: CliRotationKind<unknown>) => boolean = () => true): string[] {
  return CLI_ROTATION_KINDS.filter(filter).map((k) => k.module.kind);
}

export function cliRotationKind(kind: string): CliRotationKind<unknown> {
  const found = CLI_ROTATION_KINDS.find((k) => k.module.kind === kind);
  if (found === undefined) throw new CliError('USAGE', `Unknown secret ${JSON.stringify(kind.slice(0, 40))}`);
  return found;
}
