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
  yes: { type: 'boolean', short: 'y' },
  url: { type: 'string' },
  account: { type: 'string' },
  prefix: { type: 'string' },
  out: { type: 'string' },
  'env-file': { type: 'string' },
  'rotation-log': { type: 'string' },
  'from-env': { type: 'string' },
  'terraform-dir': { type: 'string' },
  apply: { type: 'boolean' },
  instances: { type: 'string' },
  'ttl-ms': { type: 'string' },
  'cloudtrail-log-group': { type: 'string' },
  'service-log-group': { type: 'string' },
  'sns-topic': { type: 'string', multiple: true },
} as const satisfies ParseArgsConfig['options'];

/** Parses argv strictly: an unknown option is a usage error. */
export function parseCliArgs(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError('USAGE', (err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

export type CliOptions = ReturnType<typeof parseCliArgs>['values'];
