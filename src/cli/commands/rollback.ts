import { resolve } from 'node:path';
import { GetSecretValueCommand, UpdateSecretVersionStageCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, CliError, fromAwsError } from '../errors.js';
import { notifyRefresh } from '../notify-refresh.js';
import { appendRotationLog, DEFAULT_ROTATION_LOG } from '../rotation-log.js';
import { stagesOf } from './versions.js';

export interface RollbackResult {
  readonly fromVersionId: string;
  readonly toVersionId: string;
}

/**
 * Moves AWSCURRENT back to the AWSPREVIOUS version (AWS's documented rollback), naming the
 * version it moves from: if someone changed the secret meanwhile, AWS refuses, so of two
 * concurrent rollbacks exactly one wins. With no AWSPREVIOUS nothing is touched.
 */
export async function rollback(client: SecretsManagerClient, secretId: string): Promise<RollbackResult> {
  const { current, previous } = await stagesOf(client, secretId);
  if (current?.VersionId === undefined) throw new CliError('NOT_FOUND', `${secretId} has no AWSCURRENT version`);
  if (previous?.VersionId === undefined) throw new CliError('CONFLICT', `${secretId} has no AWSPREVIOUS version to roll back to; nothing changed`);
  try {
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: previous.VersionId,
        RemoveFromVersionId: current.VersionId,
      }),
    );
  } catch (err) {
    if (classifyAwsError(err).code === 'InvalidParameterException') {
      throw new CliError('CONFLICT', `${secretId} changed while rolling back (another rotation or rollback won); nothing changed here. Check with: secrets status`, { cause: err });
    }
    throw fromAwsError(err, secretId);
  }
  return { fromVersionId: current.VersionId, toVersionId: previous.VersionId };
}

/** `secrets rollback`. */
export async function rollbackCommand(ctx: CommandContext): Promise<number> {
  const { deps, g, o, out, adminTokenId } = ctx;
  const secretId = adminTokenId();
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
  const notified = o.notify === undefined ? [] : await notifyRefresh(o.notify, await versionValue(deps.secretsManager(g.aws), secretId, result.fromVersionId), deps);
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

/** One version's value, only to authenticate a refresh notice; never printed. */
async function versionValue(client: SecretsManagerClient, secretId: string, versionId: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }))).SecretString;
  } catch (err) {
    throw fromAwsError(err, secretId);
  }
}
