import { readFile } from 'node:fs/promises';
import { parse } from 'dotenv';
import type { Catalog } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, CliError } from '../errors.js';
import { invalidReason } from '../invalid-reason.js';
import { formatTable } from '../table.js';
import { errorCode } from '../../engine/index.js';
import { isPlaceholder, PLACEHOLDER_FOR } from '../../provisioning/placeholder.js';

/** Settings the service reads from .env besides secrets: not "unknown". */
const KNOWN_SETTINGS = new Set([
  'USE_AWS_SECRETS', 'AWS_REGION', 'PORT', 'HOST', 'SECRETS_TTL_MS', 'SECRETS_GRACE_MS', 'SECRETS_PROJECT', 'SECRETS_ENVIRONMENT',
  'ENV_FILE', 'LOG_LEVEL', 'TRUST_PROXY', 'WEBHOOK_BODY_LIMIT_BYTES', 'SHUTDOWN_TIMEOUT_MS', 'NODE_ENV',
  'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_PROFILE',
  'HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'HTTP_MAX_REQUESTS_PER_SOCKET',
]);

export interface EnvFinding {
  readonly name: string;
  /** `placeholder`: a generated stand-in (fine locally, visible so it is not forgotten). */
  readonly problem: 'missing' | 'invalid' | 'unknown' | 'placeholder';
  /** What was expected; never the value. */
  readonly detail: string;
}

/** `secrets check`: the .env file against the catalog: missing, invalid and unknown names. */
export async function checkEnvFile(path: string, catalog: Catalog): Promise<EnvFinding[]> {
  let values: Record<string, string>;
  try {
    values = parse(await readFile(path));
  } catch (err) {
    const code = errorCode(err);
    const fix = code === 'ENOENT' ? 'create it with: secrets init' : code === 'EISDIR' ? "pass the .env file's path with --env-file" : 'make it readable by you (chmod 600) or pass another --env-file';
    throw new CliError('NOT_FOUND', `Cannot read ${path} (${code}); ${fix}`, { cause: err });
  }
  const findings: EnvFinding[] = [];
  for (const { name, spec } of catalog.entries) {
    const raw = values[name];
    if (raw === undefined || raw === '') {
      if (spec.required) findings.push({ name, problem: 'missing', detail: spec.description });
      continue;
    }
    const parsed = spec.kind.parse(raw);
    if (!parsed.ok) findings.push({ name, problem: 'invalid', detail: invalidReason(parsed.reason, spec.kind.label) });
    else if (isPlaceholder(raw)) {
      findings.push({ name, problem: 'placeholder', detail: `the placeholder from .env.example: fine for local development, replace it before talking to ${PLACEHOLDER_FOR[name] ?? 'its service'}` });
    }
  }
  for (const name of Object.keys(values)) {
    // A secret's companions in env mode: its previous value and when it was rotated.
    const base = name.replace(/_(PREVIOUS|ROTATED_AT)$/, '');
    if (catalog.entry(base) === undefined && !KNOWN_SETTINGS.has(name)) findings.push({ name, problem: 'unknown', detail: 'not in the catalog' });
  }
  return findings;
}

/** `secrets check`. */
export async function checkCommand(ctx: CommandContext): Promise<number> {
  const { catalog, out, envFile, style } = ctx;
  const findings = await checkEnvFile(envFile, catalog);
  const table = formatTable(
    ['PROBLEM', 'NAME', 'DETAIL'],
    findings.map((f) => [{ text: f.problem.toUpperCase(), style: f.problem === 'unknown' || f.problem === 'placeholder' ? style.warn : style.bad }, f.name, f.detail]),
  );
  out({ path: envFile, findings }, findings.length === 0 ? `${envFile}: all catalog secrets present and valid\n` : `${envFile}:\n${table}`);
  // Unknown names and placeholders are shown, not failures: a fresh .env works locally.
  return findings.some((f) => f.problem === 'missing' || f.problem === 'invalid') ? EXIT_CODES.FAILED : EXIT_CODES.OK;
}
