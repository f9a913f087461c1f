import { resolve } from 'node:path';
import { createEnvFile } from '../../provisioning/create-env-file.js';
import { EnvFileCreateError } from '../../provisioning/errors.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';

/** `secrets init`. */
export async function initCommand(ctx: CommandContext): Promise<number> {
  const { deps, out, envFile } = ctx;
  let result;
  try {
    result = await createEnvFile({ path: envFile, examplePath: resolve(deps.cwd, '.env.example') });
  } catch (err) {
    if (err instanceof EnvFileCreateError) throw new CliError('FAILED', err.message, { cause: err });
    throw err;
  }
  const { created, path } = result;
  out({ created, path }, created ? `Created ${path} (mode 0600) with generated ADMIN_TOKEN and META_VERIFY_TOKEN\n` : `${path} exists; left unchanged\n`);
  return EXIT_CODES.OK;
}
