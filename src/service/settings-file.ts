import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
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
    throw new EnvFileError(`Cannot read ${path}: ${code ?? 'error'} (${envFileFix(code, path, currentUser())})`, { cause: err });
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'the user the service runs as';
  }
}

/** How to fix a `.env` the service cannot read, by the error's code: what to run, or what to set. */
export function envFileFix(code: string | undefined, path: string, user: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `the service runs as ${user}: give that user read access and keep it private, e.g. sudo chown ${user} ${path} && chmod 600 ${path}; or set ENV_FILE to a file it can read`;
    case 'EISDIR':
      return `it is a folder: set ENV_FILE to the .env file's path`;
    default:
      return `check the path and its permissions, or set ENV_FILE to another file`;
  }
}
