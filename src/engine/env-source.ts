import { readFile, stat } from 'node:fs/promises';
import { parse as parseDotenv } from 'dotenv';
import type { CatalogEntry } from './catalog.js';
import { SourceError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { LoadResult, SecretFailure, SecretRecord, SecretSource } from './source.js';

/** A `.env` larger than this is refused: it is untrusted input, and a real one is a few KiB. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

export interface EnvSourceOptions {
  /** The real environment (e.g. `process.env`); it wins over the file. Never mutated. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Path of the `.env` file; a missing file is fine. `null` reads the environment alone. */
  readonly envFilePath: string | null;
  readonly logger?: Logger;
}

/**
 * Local mode: the environment plus `.env`, parsed by dotenv's own rules (quotes, multiline,
 * `export`, comments, BOM, CRLF). Re-read on every load, so an edited `.env` is picked up by a
 * refresh. A secret that accepts its previous value may carry it in `<NAME>_PREVIOUS`.
 */
export function createEnvSource(options: EnvSourceOptions): SecretSource {
  const { env, envFilePath, logger = silentLogger } = options;
  const warnedLoose = new Set<string>();

  async function readEnvFile(): Promise<Record<string, string>> {
    if (envFilePath === null) return {};
    let size: number;
    let mode: number;
    try {
      ({ size, mode } = await stat(envFilePath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new SourceError((err as NodeJS.ErrnoException).code ?? 'EnvFileUnreadable', false, { cause: err });
    }
    if (size > MAX_ENV_FILE_BYTES) throw new SourceError('EnvFileTooLarge', false);
    // Group- or world-readable secrets are a finding, not a failure: say it once per path.
    if ((mode & 0o077) !== 0 && !warnedLoose.has(envFilePath)) {
      warnedLoose.add(envFilePath);
      logger.warn(
        { event: 'secrets.env_file_permissions', path: envFilePath, mode: (mode & 0o777).toString(8) },
        'Secrets file is readable by group or others; run chmod 600 on it',
      );
    }
    try {
      return parseDotenv(await readFile(envFilePath));
    } catch (err) {
      throw new SourceError((err as NodeJS.ErrnoException).code ?? 'EnvFileUnreadable', false, { cause: err });
    }
  }

  const present = (v: string | undefined): v is string => v !== undefined && v !== '';

  return {
    kind: 'env',
    description: 'environment',
    async load(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
      const file = await readEnvFile();
      signal.throwIfAborted();
      const lookup = (key: string): string | undefined => (present(env[key]) ? env[key] : file[key]);
      const records: SecretRecord[] = [];
      const failures: SecretFailure[] = [];
      for (const { name, spec } of entries) {
        const raw = lookup(name);
        if (!present(raw)) {
          failures.push({ name, code: 'NotSet', transient: false });
          continue;
        }
        const previous = spec.acceptsPrevious ? lookup(`${name}_PREVIOUS`) : undefined;
        records.push(present(previous) ? { name, raw, previous: { raw: previous } } : { name, raw });
      }
      return { records, failures };
    },
  };
}
