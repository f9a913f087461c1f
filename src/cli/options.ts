import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  profile: { type: 'string' },
  project: { type: 'string' },
  environment: { type: 'string' },
  strategy: { type: 'string' },
  'save-token': { type: 'string' },
  print: { type: 'boolean' },
  notify: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  graceful: { type: 'boolean' },
  'enable-rotation': { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  url: { type: 'string' },
  account: { type: 'string' },
  prefix: { type: 'string' },
  out: { type: 'string' },
  'env-file': { type: 'string' },
  'rotation-log': { type: 'string' },
  'from-env': { type: 'string' },
  overwrite: { type: 'string', multiple: true },
  'policies-dir': { type: 'string' },
  'terraform-dir': { type: 'string' },
  'master-secret': { type: 'string' },
  apply: { type: 'boolean' },
  instances: { type: 'string' },
  'ttl-ms': { type: 'string' },
  'cloudtrail-log-group': { type: 'string' },
  'service-log-group': { type: 'string' },
  'sns-topic': { type: 'string', multiple: true },
  'redis-url': { type: 'string' },
  'replica-regions': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Parses argv strictly: an unknown option is a usage error. A leading `--` is dropped: the npm
 * script and the bin put one before the arguments so that Node 20 does not take `--env-file` as
 * its own flag (it reads node's options up to the first `--`, even after the script name).
 */
export function parseCliArgs(argv: readonly string[]) {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError('USAGE', usageMessage(err as Error & { code?: string }));
  }
}

/** node:util's parse errors in our words: its unknown-option text ends on an unbalanced quote. */
function usageMessage(err: Error & { code?: string }): string {
  const option = /'(-[^' ]*)/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) return `Unknown option ${option}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    return /argument missing/.test(err.message) ? `Option ${option} needs a value` : `Option ${option} takes no value`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return 'Unexpected argument';
  return 'Bad arguments';
}

export type CliOptions = ReturnType<typeof parseCliArgs>['values'];
