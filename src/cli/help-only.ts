import { EXIT_CODES } from './errors.js';
import { helpFor } from './help.js';
import { parseCliArgs } from './options.js';

/**
 * The answer to an invocation that only asks for usage (`--help`, `help [command]`, or no
 * command), or undefined for anything else (a usage error included: `run` reports it). `run`
 * answers help through this, and the bin entry answers it before loading the AWS SDK, so
 * `secrets --help` starts in a fraction of the time a command needs.
 */
export function helpOnly(argv: readonly string[]): { readonly text: string; readonly code: number } | undefined {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch {
    return undefined;
  }
  const { values: options, positionals } = parsed;
  const [command, target] = positionals;
  if (!(options.help || command === undefined || command === 'help')) return undefined;
  return { text: helpFor(command === 'help' ? target : command), code: command === undefined && !options.help ? EXIT_CODES.USAGE : EXIT_CODES.OK };
}
