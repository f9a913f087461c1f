import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWSCURRENT, AWSPREVIOUS, readValue, readVersions, ROTATION_IMMEDIATE } from '../../rotation/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES } from '../errors.js';
import { cliErrorOf } from '../rotation-failure.js';

export interface Check {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do about a failed check, when there is something to say. */
  readonly hint?: string;
}

/** A lockout refuses even the right token: say so, and how to get out, rather than a bare 429. */
const LOCKED_OUT =
  'clear the lockout on every instance at once with secrets unlock <your address> --redis-url URL (README: "Admin lockout"), or wait';

const NOT_REFRESHED = (url: string) =>
  `instances may not have refreshed since the last rotation or rollback: POST ${new URL('/admin/refresh-secrets', url).href} with the token they still accept (or use --notify on rotate/rollback), then verify again`;

/**
 * `secrets verify admin-token`: the stages are sound and, with a service URL, the service accepts
 * the current token and (when the current version carries ROTATION_IMMEDIATE, after an immediate
 * rotation or rollback) refuses the previous one.
 */
export async function verifyAdminToken(client: SecretsManagerClient, secretId: string, url: string | undefined, fetchFn: typeof fetch): Promise<Check[]> {
  const checks: Check[] = [];
  const versions = await readVersions(client, secretId);
  const { current, previous } = versions;
  checks.push({ check: 'AWSCURRENT', ok: current !== undefined, detail: current?.versionId ?? 'missing' });
  checks.push({ check: 'AWSPREVIOUS', ok: true, detail: previous?.versionId ?? 'none (no rollback possible)' });
  if (versions.unfinished !== undefined) {
    checks.push({
      check: 'no unfinished rotation',
      ok: false,
      detail: `version ${versions.unfinished.versionId} is AWSPENDING`,
      hint: 'finish it with the same "secrets rotate admin-token" command, or cancel it with "secrets rollback admin-token"',
    });
  }
  if (url === undefined) return checks;

  let retryAfter: string | null = null;
  const probe = async (token: string | undefined): Promise<number> => {
    if (token === undefined) return 0;
    try {
      const res = await fetchFn(new URL('/admin/secrets/health', url), { headers: { 'x-admin-token': token }, signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      retryAfter = res.headers.get('retry-after');
      return res.status;
    } catch {
      return 0;
    }
  };
  const described = (status: number): string =>
    status === 429
      ? `HTTP 429: this client is locked out after too many failed admin tokens; retry in ${/^\d{1,7}$/.test(retryAfter ?? '') ? retryAfter : '?'} s`
      : `HTTP ${status || 'unreachable'}`;
  const currentStatus = await probe((await readValue(client, secretId, { stage: AWSCURRENT }))?.value);
  checks.push({
    check: 'service accepts current token',
    ok: currentStatus === 200,
    detail: described(currentStatus),
    ...(currentStatus === 401 && { hint: NOT_REFRESHED(url) }),
    ...(currentStatus === 429 && { hint: LOCKED_OUT }),
  });
  if (previous !== undefined && current?.stages.includes(ROTATION_IMMEDIATE)) {
    const previousStatus = await probe((await readValue(client, secretId, { stage: AWSPREVIOUS }))?.value);
    checks.push({
      check: 'service refuses previous token (immediate rotation)',
      ok: previousStatus === 401,
      detail: described(previousStatus),
      ...(previousStatus === 200 && { hint: NOT_REFRESHED(url) }),
      ...(previousStatus === 429 && { hint: LOCKED_OUT }),
    });
  }
  return checks;
}

/** `secrets verify`. */
export async function verifyCommand(ctx: CommandContext): Promise<number> {
  const { deps, globals, options, out, adminTokenId } = ctx;
  const secretId = adminTokenId();
  let checks: Check[];
  try {
    checks = await verifyAdminToken(deps.secretsManager(globals.aws), secretId, options.url, deps.fetch);
  } catch (err) {
    throw cliErrorOf(err, secretId);
  }
  const hints = [...new Set(checks.flatMap((c) => (c.ok || c.hint === undefined ? [] : [c.hint])))];
  out({ secretId, checks }, `${checks.map((c) => `[${c.ok ? 'OK' : 'FAIL'}] ${c.check}: ${c.detail}`).join('\n')}\n${hints.map((h) => `hint: ${h}\n`).join('')}`);
  return checks.every((c) => c.ok) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
