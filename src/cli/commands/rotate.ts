import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IMMEDIATE_ROTATION_STAGE } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, CliError, fromAwsError } from '../errors.js';
import { notifyRefresh } from '../notify-refresh.js';
import { appendRotationLog, DEFAULT_ROTATION_LOG } from '../rotation-log.js';
import { stagesOf } from './versions.js';

/** AWS advises at most one new version per secret every 10 minutes. */
export const MIN_ROTATION_INTERVAL_MS = 10 * 60_000;

export interface RotateInput {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly strategy: 'immediate' | 'graceful';
  readonly force: boolean;
  readonly now: number;
}

export interface RotateResult {
  readonly fromVersionId: string | null;
  readonly toVersionId: string;
  /** Only for the caller to hand to the operator (0600 file or --print); never logged. */
  readonly newToken: string;
  /** The token being replaced: valid until instances refresh, so it can authenticate --notify. */
  readonly oldToken: string | undefined;
}

/** A 64-character token from 48 random bytes (base64url, no padding). */
export function newAdminToken(): string {
  return randomBytes(48).toString('base64url');
}

export async function rotate(input: RotateInput): Promise<RotateResult> {
  const { client, secretId, strategy, force, now } = input;
  const { current } = await stagesOf(client, secretId);
  if (current?.CreatedDate !== undefined && now - current.CreatedDate.getTime() < MIN_ROTATION_INTERVAL_MS && !force) {
    throw new CliError('CONFLICT', `${secretId} got a new version less than 10 minutes ago; AWS advises against rotating that often. Use --force to rotate anyway`);
  }
  try {
    const old = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const newToken = newAdminToken();
    const out = await client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        SecretString: newToken,
        // The engine refuses the previous token at once when the current version carries this label.
        ...(strategy === 'immediate' && { VersionStages: ['AWSCURRENT', IMMEDIATE_ROTATION_STAGE] }),
      }),
    );
    return { fromVersionId: old.VersionId ?? null, toVersionId: out.VersionId!, newToken, oldToken: old.SecretString };
  } catch (err) {
    throw fromAwsError(err, secretId);
  }
}

export interface TokenFile {
  write(token: string): Promise<void>;
  /** Removes the still-empty file when the rotation did not happen. */
  discard(): Promise<void>;
}

/**
 * Creates the token file (mode 0600, never overwriting) before the rotation, so a bad path fails
 * while nothing has changed instead of after the only copy of the new token exists.
 */
export async function reserveTokenFile(path: string): Promise<TokenFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    throw new CliError('FAILED', `Cannot create ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); nothing changed`, { cause: err });
  }
  return {
    async write(token) {
      try {
        await handle.writeFile(`${token}\n`);
      } finally {
        await handle.close();
      }
    },
    async discard() {
      await handle.close();
      await rm(path, { force: true });
    },
  };
}

export const POST_ROTATION_CHECKLIST = [
  'POST-ROTATION CHECKLIST:',
  '  [ ] Update CI/CD pipelines with new token',
  '  [ ] Update monitoring/alerting tools',
  '  [ ] Verify application is using new token (secrets verify admin-token --url URL)',
  '  [ ] Delete the new-token file securely once distributed',
  '  [ ] Schedule next rotation (recommended: 90 days)',
].join('\n');

/** `secrets rotate`. */
export async function rotateCommand(ctx: CommandContext): Promise<number> {
  const { deps, g, o, adminTokenId } = ctx;
  const secretId = adminTokenId();
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
  const notified = await notifyRefresh(o.notify ?? [], result.oldToken, deps);
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
