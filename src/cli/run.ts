import { resolve } from 'node:path';
import { whatsappSaasCatalog } from '../catalog/whatsapp-saas.js';
import type { CommandContext } from './command-context.js';
import type { CliDeps, GlobalOptions } from './deps.js';
import { CliError, EXIT_CODES } from './errors.js';
import { helpOnly } from './help-only.js';
import { parseCliArgs } from './options.js';
import { createProgress } from './progress.js';
import { colorEnabled, createStyle } from './style.js';
import { alarmsCommand } from './commands/alarms.js';
import { checkCommand } from './commands/check.js';
import { iamCommand } from './commands/iam.js';
import { initCommand } from './commands/init.js';
import { rollbackCommand } from './commands/rollback.js';
import { rotateCommand } from './commands/rotate.js';
import { setupCommand } from './commands/setup.js';
import { statusCommand } from './commands/status.js';
import { unlockCommand } from './commands/unlock.js';
import { verifyCommand } from './commands/verify.js';

/** Each command, and whether it names a secret (`rotate admin-token`) after it. */
const COMMANDS: Readonly<Record<string, { readonly handler: (ctx: CommandContext) => Promise<number>; readonly takesSecret: boolean }>> = {
  setup: { handler: setupCommand, takesSecret: false },
  status: { handler: statusCommand, takesSecret: false },
  rotate: { handler: rotateCommand, takesSecret: true },
  rollback: { handler: rollbackCommand, takesSecret: true },
  verify: { handler: verifyCommand, takesSecret: true },
  iam: { handler: iamCommand, takesSecret: false },
  init: { handler: initCommand, takesSecret: false },
  check: { handler: checkCommand, takesSecret: false },
  alarms: { handler: alarmsCommand, takesSecret: false },
  unlock: { handler: unlockCommand, takesSecret: true },
};

/** The command names `run` dispatches (the guide's test checks documented commands against them). */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/** Runs one CLI invocation and returns its exit code; only the bin entry exits. */
export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    return await dispatch(argv, deps);
  } catch (err) {
    const e = err instanceof CliError ? err : new CliError('FAILED', `Unexpected failure (${(err as Error)?.name ?? 'Error'})`);
    deps.stderr(`error: ${e.message}\n`);
    if (e.code === 'USAGE') deps.stderr('Run "secrets --help" for usage.\n');
    return EXIT_CODES[e.code];
  }
}

async function dispatch(argv: readonly string[], deps: CliDeps): Promise<number> {
  const { values: options, positionals } = parseCliArgs(argv);
  const [command, target, ...extra] = positionals;
  const help = helpOnly(argv);
  if (help !== undefined || command === undefined) {
    deps.stdout(help?.text ?? '');
    return help?.code ?? EXIT_CODES.USAGE;
  }
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (spec === undefined) throw new CliError('USAGE', `Unknown command ${JSON.stringify(command.slice(0, 40))}`);
  if (!spec.takesSecret && target !== undefined) throw new CliError('USAGE', `${command} takes no arguments besides options`);
  const region = options.region ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = options['endpoint-url'] ?? deps.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? deps.env.AWS_ENDPOINT_URL;
  const profile = options.profile ?? deps.env.AWS_PROFILE;
  const globals: GlobalOptions = {
    json: options.json === true,
    aws: { region, ...(endpoint !== undefined && { endpoint }), ...(profile !== undefined && { profile }) },
    project: options.project ?? deps.env.SECRETS_PROJECT ?? 'whatsapp-saas',
    environment: options.environment ?? deps.env.SECRETS_ENVIRONMENT ?? 'mvp',
  };
  let catalog;
  try {
    catalog = whatsappSaasCatalog({ project: globals.project, environment: globals.environment });
  } catch (err) {
    throw new CliError('USAGE', (err as Error).message);
  }
  return spec.handler({
    deps,
    globals,
    options,
    catalog,
    region,
    envFile: resolve(deps.cwd, options['env-file'] ?? '.env'),
    args: positionals.slice(1),
    out: (data, text) => deps.stdout(globals.json ? `${JSON.stringify(data, null, 2)}\n` : text),
    style: createStyle(!globals.json && colorEnabled(deps.terminal?.stdout ?? false, deps.env)),
    progress: () => createProgress(globals.json ? deps.stderr : deps.stdout, deps.spinner),
    adminTokenId: () => {
      if (target !== 'admin-token' || extra.length > 0) throw new CliError('USAGE', `${command} takes exactly one secret: admin-token`);
      return catalog.entry('ADMIN_TOKEN')!.awsId;
    },
    secretArg: (allowed) => {
      if (target === undefined || !allowed.includes(target) || extra.length > 0) throw new CliError('USAGE', `${command} takes exactly one secret: ${allowed.join(' or ')}`);
      return target;
    },
  });
}
