import { randomBytes } from 'node:crypto';
import { chmod, open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { whatsappSaasSpec } from '../catalog/whatsapp-saas.js';
import { EnvFileCreateError } from './errors.js';
import { generateToken } from './generate-token.js';
import { PLACEHOLDERS } from './placeholder.js';
import { errorCode } from '../engine/index.js';

// Shared by `npm run dev` (the service creates .env on first run) and `secrets init` (the CLI).

/** Local services on their usual ports; PostgreSQL with trust auth, as a fresh local install has. */
export const LOCAL_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/whatsapp_saas';
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

export { PLACEHOLDERS };

export interface CreateEnvFileOptions {
  /** The `.env` to create; left untouched when it exists. */
  readonly path: string;
  /** The template (`.env.example`); when it is missing, the file is rendered from the catalog. */
  readonly examplePath: string;
  /** Random bytes (crypto.randomBytes by default), injectable for tests. */
  readonly random?: (size: number) => Buffer;
}

const LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=)(.*)$/;

/**
 * Creates `.env` (mode 0600, atomically: never overwrites one that appears meanwhile) from the
 * template, with fresh values for every generated secret (ADMIN_TOKEN, META_VERIFY_TOKEN:
 * 48 random bytes, URL-safe base64, see generateToken), local DATABASE_URL and REDIS_URL
 * where the template leaves them empty, and marked placeholders for third-party keys. Returns
 * the absolute path; never returns or prints a value.
 */
export async function createEnvFile(options: CreateEnvFileOptions): Promise<{ created: boolean; path: string }> {
  const path = resolve(options.path);
  const random = options.random ?? randomBytes;
  const generated = new Map<string, string>();
  for (const [name, spec] of Object.entries(whatsappSaasSpec)) {
    if ('generate' in spec) generated.set(name, generateToken(spec.generate.bytes, random));
  }
  const fallbacks: Record<string, string> = { DATABASE_URL: LOCAL_DATABASE_URL, REDIS_URL: LOCAL_REDIS_URL, ...PLACEHOLDERS };

  const template = await readTemplate(options.examplePath);
  const seen = new Set<string>();
  const lines = template.split(/\r?\n/).map((line) => {
    const m = LINE.exec(line);
    if (m === null) return line;
    const [, lead, key, eq, value] = m as unknown as [string, string, string, string, string];
    seen.add(key);
    if (generated.has(key)) return `${lead}${key}${eq}${generated.get(key)}`;
    if (value.trim() === '' && fallbacks[key] !== undefined) return `${lead}${key}${eq}${fallbacks[key]}`;
    return line;
  });
  for (const [key, value] of [...generated, ...Object.entries(fallbacks)]) {
    if (!seen.has(key)) lines.push(`${key}=${value}`);
  }
  const content = `${lines.join('\n').replace(/\n*$/, '')}\n`;

  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return { created: false, path };
    throw new EnvFileCreateError(`Cannot create ${path}: ${errorCode(err)}`, { cause: err });
  }
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  await chmod(path, 0o600);
  return { created: true, path };
}

/**
 * The value createEnvFile writes for `name` from this template: the template's own when it sets
 * one, else the local default (DATABASE_URL, REDIS_URL) or placeholder. `npm run dev` compares the
 * .env's DATABASE_URL with it: an embedded PostgreSQL stands in only for the URL it wrote itself.
 */
export async function bootstrapValue(examplePath: string, name: 'DATABASE_URL' | 'REDIS_URL'): Promise<string> {
  const fromTemplate = parse(await readTemplate(examplePath))[name]?.trim() ?? '';
  return fromTemplate !== '' ? fromTemplate : name === 'DATABASE_URL' ? LOCAL_DATABASE_URL : LOCAL_REDIS_URL;
}

async function readTemplate(examplePath: string): Promise<string> {
  try {
    return await readFile(examplePath, 'utf8');
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') {
      throw new EnvFileCreateError(`Cannot read ${resolve(examplePath)}: ${errorCode(err)}`, { cause: err });
    }
    return renderFromCatalog();
  }
}

function renderFromCatalog(): string {
  const lines = ['# Created from the secrets catalog (no .env.example found). Never commit this file.', 'USE_AWS_SECRETS=false', ''];
  for (const [name, spec] of Object.entries(whatsappSaasSpec)) {
    lines.push(`# ${spec.description}${spec.required ? ' (required)' : ''}`);
    if (PLACEHOLDERS[name] !== undefined) lines.push('# PLACEHOLDER: replace with your real value; it only lets the service start locally.');
    lines.push(`${name}=${'default' in spec ? String(spec.default) : ''}`);
  }
  return lines.join('\n');
}
