import { readFile } from 'node:fs/promises';
import { parse } from 'dotenv';
import { EnvFileError } from './errors.js';

/**
 * The `.env` file's entries, for the service's settings (PORT, USE_AWS_SECRETS, ...), so a
 * developer configures everything in one file. The real environment wins over it (the caller
 * spreads `process.env` last). A missing file is empty. Secrets in it are read by the engine's
 * env source, not through this.
 */
export async function readSettingsFile(path: string): Promise<Record<string, string>> {
  try {
    return parse(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new EnvFileError(`Cannot read ${path}: ${code ?? 'error'}`, { cause: err });
  }
}
