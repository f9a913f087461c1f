import type { Catalog } from '../engine/index.js';
import type { CliDeps, GlobalOptions } from './deps.js';
import type { CliOptions } from './options.js';
import type { Progress } from './progress.js';
import type { Style } from './style.js';

/** What a command handler gets: the world, the parsed options and the catalog in scope. */
export interface CommandContext {
  readonly deps: CliDeps;
  /** Output mode, AWS connection settings, project and environment: what every command shares. */
  readonly globals: GlobalOptions;
  /** The arguments after the command name (`unlock 203.0.113.7`). */
  readonly args: readonly string[];
  /** Every parsed command-line option, as given. */
  readonly options: CliOptions;
  readonly catalog: Catalog;
  readonly region: string;
  /** The .env path for init and check (--env-file, default .env). */
  readonly envFile: string;
  /** Writes `data` as JSON with --json, else `text`. */
  readonly out: (data: unknown, text: string) => void;
  /** The admin token's secret id; a usage error unless the target is exactly `admin-token`. */
  readonly adminTokenId: () => string;
  /** The one secret named after the command (`rotate meta-verify-token`); a usage error unless it is one of `allowed`. */
  readonly secretArg: (allowed: readonly string[]) => string;
  /** Colours for human output on stdout (plain unless stdout is a terminal and NO_COLOR is unset). */
  readonly style: Style;
  /** A line per finished item (stdout, or stderr with --json) and a spinner on a terminal. */
  readonly progress: () => Progress;
}
