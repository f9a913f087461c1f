import { readFile, stat } from 'node:fs/promises';
import { parse as parseDotenv } from 'dotenv';
import type { CatalogEntry } from './catalog.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { SourceError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { LoadResult, SecretFailure, SecretRecord, SecretSource } from './source.js';

/** A `.env` larger than this is refused: it is untrusted input, and a real one is a few KiB. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

/** Suffixes of a secret's companions: its previous value, and when the current one replaced it. */
export const PREVIOUS_SUFFIX = '_PREVIOUS';
export const ROTATED_AT_SUFFIX = '_ROTATED_AT';

/** ISO 8601 with a date, a time and a zone: a time without a zone means different instants on different hosts. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** Clocks of the host that wrote the time and of this one may disagree by this much. */
const CLOCK_SKEW_MS = 60_000;

export interface EnvSourceOptions {
  /** The real environment (e.g. `process.env`); it wins over the file. Never mutated. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Path of the `.env` file; a missing file is fine. `null` reads the environment alone. */
  readonly envFilePath: string | null;
  readonly logger?: Logger;
  /** For judging `<NAME>_ROTATED_AT` (a time in the future is refused). */
  readonly clock?: Clock;
}

interface EnvFile {
  readonly values: Record<string, string>;
  /** Last modification of the file, when it exists. */
  readonly mtimeMs: number | undefined;
}

type Anchor = { readonly ok: true; readonly atMs: number } | { readonly ok: false; readonly reason: string };

/**
 * Local mode: the environment plus `.env`, parsed by dotenv's own rules (quotes, multiline,
 * `export`, comments, BOM, CRLF). Re-read on every load, so an edited `.env` is picked up by a
 * refresh.
 *
 * A secret that accepts its previous value may carry it in `<NAME>_PREVIOUS`. Its grace window
 * must not reopen when the service restarts, so it is anchored to something that outlives the
 * process: `<NAME>_ROTATED_AT` (an ISO 8601 time with a zone) when set, else the file's
 * modification time when both values come from the file. A previous value with neither (set in
 * the real environment alone), with an unreadable or future `<NAME>_ROTATED_AT`, or that breaks
 * the secret's own rules is not accepted, and a warning says why (once; never a value).
 */
export function createEnvSource(options: EnvSourceOptions): SecretSource {
  const { env, envFilePath, logger = silentLogger, clock = systemClock } = options;
  const warnedLoose = new Set<string>();
  const warnedPrevious = new Set<string>();

  async function readEnvFile(): Promise<EnvFile> {
    if (envFilePath === null) return { values: {}, mtimeMs: undefined };
    let size: number;
    let mode: number;
    let mtimeMs: number;
    try {
      ({ size, mode, mtimeMs } = await stat(envFilePath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { values: {}, mtimeMs: undefined };
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
      return { values: parseDotenv(await readFile(envFilePath)), mtimeMs };
    } catch (err) {
      throw new SourceError((err as NodeJS.ErrnoException).code ?? 'EnvFileUnreadable', false, { cause: err });
    }
  }

  const present = (v: string | undefined): v is string => v !== undefined && v !== '';

  function ignorePrevious(name: string, reason: string): void {
    const key = `${name}\n${reason}`;
    if (warnedPrevious.has(key)) return;
    warnedPrevious.add(key);
    logger.warn(
      { event: 'secrets.previous_ignored', name, reason },
      `${name}${PREVIOUS_SUFFIX} is not accepted: ${reason}`,
    );
  }

  function anchorOf(name: string, explicit: string | undefined, fileMtimeMs: number | undefined): Anchor {
    const variable = `${name}${ROTATED_AT_SUFFIX}`;
    if (present(explicit)) {
      const atMs = ISO_TIME.test(explicit.trim()) ? Date.parse(explicit.trim()) : Number.NaN;
      if (!Number.isFinite(atMs)) return { ok: false, reason: `${variable} is not an ISO 8601 time` };
      // A future anchor would hold the window open past the grace period on every restart.
      if (atMs > clock.now() + CLOCK_SKEW_MS) return { ok: false, reason: `${variable} is in the future` };
      return { ok: true, atMs };
    }
    if (fileMtimeMs !== undefined) return { ok: true, atMs: Math.min(fileMtimeMs, clock.now()) };
    return { ok: false, reason: `no ${variable}` };
  }

  return {
    kind: 'env',
    description: 'environment',
    async load(entries: readonly CatalogEntry[], signal: AbortSignal): Promise<LoadResult> {
      const file = await readEnvFile();
      signal.throwIfAborted();
      const fromEnv = (key: string): boolean => present(env[key]);
      const lookup = (key: string): string | undefined => (fromEnv(key) ? env[key] : file.values[key]);
      const records: SecretRecord[] = [];
      const failures: SecretFailure[] = [];
      for (const { name, spec } of entries) {
        const raw = lookup(name);
        if (!present(raw)) {
          failures.push({ name, code: 'NotSet', transient: false });
          continue;
        }
        const previousKey = `${name}${PREVIOUS_SUFFIX}`;
        const previous = spec.acceptsPrevious ? lookup(previousKey) : undefined;
        if (!present(previous)) {
          records.push({ name, raw });
          continue;
        }
        const bothFromFile = !fromEnv(name) && !fromEnv(previousKey);
        const anchor = anchorOf(name, lookup(`${name}${ROTATED_AT_SUFFIX}`), bothFromFile ? file.mtimeMs : undefined);
        const parsed = spec.kind.parse(previous);
        if (!anchor.ok) ignorePrevious(name, anchor.reason);
        else if (!parsed.ok) ignorePrevious(name, `invalid: ${parsed.reason}`);
        records.push(anchor.ok && parsed.ok ? { name, raw, createdAtMs: anchor.atMs, previous: { raw: previous } } : { name, raw });
      }
      return { records, failures };
    },
  };
}
