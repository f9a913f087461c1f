import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { driverErrorCode, publishRefreshNotice, RotationError } from '../rotation/index.js';
import type { CommandContext } from './command-context.js';
import type { CliDeps } from './deps.js';
import { createProgress } from './progress.js';

export interface Notified {
  readonly url: string;
  readonly ok: boolean;
  readonly status: number;
}

/**
 * Asks each running service to refresh `names` (it tells its peers over Redis, naming the same
 * secrets, so every instance re-reads only those). Shows progress on stderr
 * as each instance answers, a line each, with a spinner for the ones still awaited on a terminal;
 * stdout stays for the command's own result.
 */
export async function notifyRefresh(urls: readonly string[], token: string | undefined, names: readonly string[], deps: CliDeps): Promise<Notified[]> {
  const progress = createProgress(deps.stderr, deps.spinner);
  let waiting = urls.length;
  const awaited = () => `Waiting for ${waiting} instance${waiting === 1 ? '' : 's'} to refresh`;
  if (waiting > 0) progress.working(awaited());
  try {
    return await Promise.all(
      urls.map(async (url): Promise<Notified> => {
        let result: Notified;
        try {
          const target = new URL('/admin/refresh-secrets', url);
          if (names.length > 0) target.searchParams.set('names', names.join(','));
          const res = await deps.fetch(target, {
            method: 'POST',
            headers: token !== undefined ? { 'x-admin-token': token } : {},
            signal: AbortSignal.timeout(5_000),
          });
          await res.arrayBuffer();
          result = { url, ok: res.ok, status: res.status };
        } catch {
          result = { url, ok: false, status: 0 };
        }
        waiting--;
        if (waiting > 0) progress.working(awaited());
        else progress.finish();
        progress.done(`${result.ok ? 'refreshed' : 'failed   '}  ${url}  (${result.status === 0 ? 'unreachable' : `HTTP ${result.status}`})`);
        return result;
      }),
    );
  } finally {
    progress.finish();
  }
}

/**
 * The Redis push after a credential's AWSCURRENT moved (rotate, rollback): a notice on the aws
 * refresh channel naming the secret and its new version, published with REDIS_URL's current
 * credentials. The number of listening connections, or undefined with a warning (never fails the
 * command: the move is committed).
 */
export async function pushRefreshNotice(
  ctx: CommandContext,
  moved: { readonly client: SecretsManagerClient; readonly secretId: string; readonly name: string; readonly versionId: string; readonly reason: string },
  warnings: string[],
  committed: string,
): Promise<number | undefined> {
  try {
    return await publishRefreshNotice({
      client: moved.client,
      redisSecretId: ctx.catalog.entry('REDIS_URL')!.awsId,
      redis: ctx.deps.credentialClients.redis,
      origin: 'secrets-cli',
      reason: moved.reason,
      catalog: ctx.catalog,
      name: moved.name,
      versionId: moved.versionId,
      now: ctx.deps.now,
    });
  } catch (err) {
    const code = err instanceof RotationError ? err.code : driverErrorCode(err);
    warnings.push(`${committed}; could not publish a refresh notice on Redis (${code}): instances switch at their next refresh, or refresh them with --notify`);
    return undefined;
  }
}
