import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressForms } from '../../../src/admin-lockout/unlock.js';
import { helpFor } from '../../../src/cli/help.js';
import { parseCliArgs } from '../../../src/cli/options.js';
import { cliRotationKind, cliRotationKinds } from '../../../src/cli/rotation-kinds.js';
import { COMMAND_NAMES } from '../../../src/cli/run.js';
import { parseCliOptions } from '../../../src/local-aws/cli-options.js';
import type { CliDefinition, ProjectFacts } from './command-check.js';

/** The `secrets` CLI as its code defines it: command table, option parser, per-command help, secrets each command takes. */
export function realCli(): CliDefinition {
  return {
    commands: COMMAND_NAMES,
    parse: (argv) => parseCliArgs(argv),
    help: (command) => helpFor(command),
    targets: {
      rotate: cliRotationKinds(),
      rollback: cliRotationKinds((k) => k.rollback),
      // verify checks the admin token only (CommandContext.adminTokenId).
      verify: ['admin-token'],
    },
    // unlock takes a client address (commands/unlock.ts checks it the same way).
    arguments: { unlock: (address) => addressForms(address) !== undefined },
    strategies: (target) => cliRotationKind(target).strategies,
  };
}

/** The repository's scripts, files, CLI and local endpoint options. */
export function realProjectFacts(repo: string, cli: CliDefinition = realCli()): ProjectFacts {
  const scripts = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return {
    cli,
    scripts,
    exists: (path) => existsSync(join(repo, path)),
    localAwsProblem: (argv) => {
      const result = parseCliOptions(argv);
      return result.kind === 'usage-error' ? result.message : undefined;
    },
  };
}
