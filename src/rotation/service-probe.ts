import { RotationError } from './errors.js';

/** A running service to test a rotation against (`secrets rotate --url`). */
export interface ServiceProbe {
  readonly url: string;
  readonly fetch: typeof fetch;
  /** The admin token the service accepts now (AWSCURRENT), to read its secrets health. Never logged. */
  adminToken(): Promise<string>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const TIMEOUT_MS = 5_000;

/**
 * Proves that the service at `probe.url` reads this very secret: `GET /admin/secrets/health`
 * accepts the current admin token and reports `versionId` as the version of `secretName` it
 * serves. Once the rotation finishes, a refresh makes it serve the new one. A service on another
 * store, or not yet refreshed after the last change, fails the test before anything is committed.
 */
export async function checkServiceServes(probe: ServiceProbe, secretName: string, versionId: string): Promise<void> {
  const where = new URL('/admin/secrets/health', probe.url);
  let status: number;
  let body: unknown;
  try {
    const res = await probe.fetch(where, { headers: { 'x-admin-token': await probe.adminToken() }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    status = res.status;
    body = res.ok ? JSON.parse(await boundedText(res)) : undefined;
  } catch (err) {
    if (err instanceof RotationError) throw err;
    throw new RotationError('ROTATION_TEST_FAILED', `Cannot read ${where.href} (${(err as Error)?.name ?? 'Error'})`, { cause: err });
  }
  if (status !== 200) {
    const why = status === 401 ? ': it refuses the current admin token (does it read this secret store? has it refreshed?)' : '';
    throw new RotationError('ROTATION_TEST_FAILED', `${where.href} answered HTTP ${status}${why}`);
  }
  const served = servedVersion(body, secretName);
  if (served !== versionId) {
    throw new RotationError(
      'ROTATION_TEST_FAILED',
      `The service at ${probe.url} serves ${served === undefined ? 'no version' : `version ${served}`} of ${secretName}, not the current ${versionId}: refresh it (POST /admin/refresh-secrets) or point it at this secret store`,
    );
  }
}

function servedVersion(body: unknown, secretName: string): string | undefined {
  const secrets = (body as { secrets?: Record<string, { versionId?: unknown } | undefined> } | undefined)?.secrets;
  const versionId = secrets?.[secretName]?.versionId;
  return typeof versionId === 'string' ? versionId : undefined;
}

async function boundedText(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new RotationError('ROTATION_TEST_FAILED', `The answer of ${res.url || 'the service'} is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
