import { DYNAMIC, type ShellCommand } from './shell-commands.js';

/** What the `secrets` CLI accepts, as its own code defines it (tests may hand in a reduced one). */
export interface CliDefinition {
  /** The command table's names. */
  readonly commands: readonly string[];
  /** The CLI's option parser: throws on an unknown option or a missing value, as the CLI does. */
  parse(argv: readonly string[]): { readonly values: Readonly<Record<string, unknown>>; readonly positionals: readonly string[] };
  /** A command's help text (`secrets <command> --help`), global options included. */
  help(command: string): string;
  /** The secrets a command takes after its name (`rotate admin-token`); absent: it takes none. */
  readonly targets: Readonly<Record<string, readonly string[]>>;
  /** Commands that take one free argument instead of a secret (`unlock 203.0.113.7`), with its check. */
  readonly arguments?: Readonly<Record<string, (argument: string) => boolean>>;
  /** `rotate <target> --strategy` values. */
  strategies(target: string): readonly string[];
}

/** The project facts a documented command is checked against. */
export interface ProjectFacts {
  readonly cli: CliDefinition;
  /** package.json's scripts. */
  readonly scripts: Readonly<Record<string, string>>;
  /** Whether a file exists, by path relative to the repository. */
  exists(path: string): boolean;
  /** The local endpoint's own option parser: a problem, or undefined when the options are fine. */
  localAwsProblem(argv: readonly string[]): string | undefined;
}

/**
 * How strictly to read a command: blocks are commands as typed (every option value present, the
 * secret named); inline spans in prose may name an option without its value
 * (`secrets setup --enable-rotation`) or a command without its secret.
 */
export type Strictness = 'block' | 'inline';

const WRAPPER_SCRIPTS: Readonly<Record<string, (args: readonly string[]) => string[]>> = {
  // scripts/rotate-admin-token.sh: `rollback` and `verify` as first argument, else rotate.
  'scripts/rotate-admin-token.sh': (args) =>
    args[0] === 'rollback' || args[0] === 'verify' ? [args[0], 'admin-token', ...args.slice(1)] : ['rotate', 'admin-token', ...args],
  'scripts/setup-aws-secrets.sh': (args) => ['setup', ...args],
};

/** Every problem with one documented command: a script, CLI command, option or file that does not exist. */
export function checkCommand(command: Pick<ShellCommand, 'argv'>, facts: ProjectFacts, strictness: Strictness): string[] {
  const [program, ...args] = command.argv;
  if (program === undefined) return [];
  if (program === 'npm') return checkNpm(args, facts, strictness);
  if (program === 'secrets') return checkSecrets(args, facts, strictness);
  const script = program === 'bash' || program === 'sh' ? args[0] : program;
  const rest = program === 'bash' || program === 'sh' ? args.slice(1) : args;
  if (script !== undefined && /^(\.\/)?(scripts|\.ci)\//.test(script)) {
    const path = script.replace(/^\.\//, '');
    if (!facts.exists(path)) return [`${path}: no such file`];
    const wrapped = WRAPPER_SCRIPTS[path];
    if (wrapped !== undefined) return checkSecrets(wrapped(rest), facts, strictness);
    // .ci/with-node24 runs the command after it.
    if (path.startsWith('.ci/') && rest.length > 0) return checkCommand({ argv: rest }, facts, strictness);
  }
  return [];
}

function checkNpm(args: readonly string[], facts: ProjectFacts, strictness: Strictness): string[] {
  const [sub, script, ...rest] = args;
  if (sub === 'test' || sub === 'start') return sub in facts.scripts ? [] : [`npm ${sub}: no "${sub}" script in package.json`];
  if (sub !== 'run' && sub !== 'run-script') return [];
  if (script === undefined) return ['npm run: no script named'];
  if (!Object.hasOwn(facts.scripts, script)) return [`npm run ${script}: no such script in package.json`];
  const passed = rest[0] === '--' ? rest.slice(1) : rest;
  if (script === 'secrets') return checkSecrets(passed, facts, strictness);
  if (script === 'local-aws') {
    const problem = facts.localAwsProblem(passed);
    return problem === undefined ? [] : [`npm run local-aws -- ${passed.join(' ')}: ${problem}`];
  }
  return [];
}

function checkSecrets(rawArgs: readonly string[], facts: ProjectFacts, strictness: Strictness): string[] {
  const { cli } = facts;
  const args = rawArgs[0] === '--' ? rawArgs.slice(1) : [...rawArgs];
  const shown = `secrets ${args.join(' ').replaceAll(DYNAMIC, '$')}`;
  let parsed: ReturnType<CliDefinition['parse']>;
  try {
    parsed = cli.parse(args);
  } catch (err) {
    const message = (err as Error).message;
    // Prose may name an option that takes a value without one: `secrets setup --enable-rotation`.
    if (strictness === 'inline' && /needs a value/.test(message)) return checkSecrets([...args, 'VALUE'], facts, strictness);
    return [`${shown}: the CLI refuses it (${message})`];
  }
  const [command, target, ...extra] = parsed.positionals;
  if (command === undefined) return parsed.values.help === true ? [] : [`${shown}: no command`];
  if (!cli.commands.includes(command)) return [`${shown}: no command "${command}" in the CLI's command table`];
  const problems: string[] = [];
  const help = cli.help(command);
  for (const arg of args) {
    const name = /^--([a-z0-9-]+)/.exec(arg)?.[1] ?? /^-([a-z])$/.exec(arg)?.[1];
    if (name === undefined) continue;
    const flag = name.length === 1 ? `-${name}` : `--${name}`;
    if (!new RegExp(`(^|[\\s\\[(|,])${flag}(?![a-z0-9-])`).test(help)) problems.push(`${shown}: "${command}" has no ${flag} (not in secrets ${command} --help)`);
  }
  const allowed = cli.targets[command];
  const argument = cli.arguments?.[command];
  if (strictness === 'block' && argument !== undefined) {
    if (target === undefined || !argument(target)) problems.push(`${shown}: "${command}" takes one argument it accepts, got ${target === undefined ? 'none' : `"${target}"`}`);
    if (extra.length > 0) problems.push(`${shown}: unexpected "${extra.join(' ')}"`);
  } else if (strictness === 'block') {
    if (allowed === undefined && target !== undefined) problems.push(`${shown}: "${command}" takes no secret, got "${target}"`);
    if (allowed !== undefined && (target === undefined || !allowed.includes(target))) problems.push(`${shown}: "${command}" takes ${allowed.join(' or ')}`);
    if (extra.length > 0) problems.push(`${shown}: unexpected "${extra.join(' ')}"`);
  }
  const strategy = parsed.values.strategy;
  if (command === 'rotate' && typeof strategy === 'string' && target !== undefined && allowed?.includes(target) && !strategy.includes(DYNAMIC)) {
    if (!cli.strategies(target).includes(strategy)) problems.push(`${shown}: rotate ${target} has no --strategy ${strategy}`);
  }
  return problems;
}
