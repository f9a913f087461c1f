import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IMMEDIATE_ROTATION_STAGE } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, fromAwsError } from '../errors.js';
import { stagesOf } from './versions.js';

export interface Check {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * `secrets verify admin-token`: the stages are sound and, with a service URL, the service accepts
 * the current token and (after an immediate rotation) refuses the previous one.
 */
export async function verifyAdminToken(client: SecretsManagerClient, secretId: string, url: string | undefined, fetchFn: typeof fetch): Promise<Check[]> {
  const checks: Check[] = [];
  const { current, previous } = await stagesOf(client, secretId);
  checks.push({ check: 'AWSCURRENT', ok: current !== undefined, detail: current?.VersionId ?? 'missing' });
  checks.push({ check: 'AWSPREVIOUS', ok: true, detail: previous?.VersionId ?? 'none (no rollback possible)' });
  if (url === undefined) return checks;

  const read = async (stage: string) => {
    try {
      return (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString;
    } catch (err) {
      throw fromAwsError(err, secretId);
    }
  };
  let retryAfter: string | null = null;
  const probe = async (token: string | undefined): Promise<number> => {
    if (token === undefined) return 0;
    try {
      const res = await fetchFn(new URL('/admin/secrets/health', url), { headers: { 'x-admin-token': token } });
      await res.arrayBuffer();
      retryAfter = res.headers.get('retry-after');
      return res.status;
    } catch {
      return 0;
    }
  };
  // A lockout refuses even the right token: say so, and how to get out, rather than a bare 429.
  const described = (status: number): string =>
    status !== 429
      ? `HTTP ${status || 'unreachable'}`
      : `HTTP 429: this client is locked out after too many failed admin tokens; retry in ${/^\d{1,7}$/.test(retryAfter ?? '') ? retryAfter : '?'} s, ` +
        'or clear it with redis-cli DEL admin-auth-failures:<your address> (README: "Admin lockout")';
  const currentStatus = await probe(await read('AWSCURRENT'));
  checks.push({ check: 'service accepts current token', ok: currentStatus === 200, detail: described(currentStatus) });
  if (previous !== undefined && current?.VersionStages?.includes(IMMEDIATE_ROTATION_STAGE)) {
    const previousStatus = await probe(await read('AWSPREVIOUS'));
    checks.push({ check: 'service refuses previous token (immediate rotation)', ok: previousStatus === 401, detail: `HTTP ${previousStatus || 'unreachable'}` });
  }
  return checks;
}

/** `secrets verify`. */
export async function verifyCommand(ctx: CommandContext): Promise<number> {
  const { deps, g, o, out, adminTokenId } = ctx;
  const secretId = adminTokenId();
  const checks = await verifyAdminToken(deps.secretsManager(g.aws), secretId, o.url, deps.fetch);
  out({ secretId, checks }, `${checks.map((c) => `[${c.ok ? 'OK' : 'FAIL'}] ${c.check}: ${c.detail}`).join('\n')}\n`);
  return checks.every((c) => c.ok) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
