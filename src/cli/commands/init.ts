import { resolve } from 'node:path';
import { createEnvFile } from '../../service/env-file-bootstrap.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES } from '../errors.js';

/** `secrets init`. */
export async function initCommand(ctx: CommandContext): Promise<number> {
  const { deps, out, envFile } = ctx;
  const { created, path } = await createEnvFile({ path: envFile, examplePath: resolve(deps.cwd, '.env.example') });
  out({ created, path }, created ? `Created ${path} (mode 0600) with generated ADMIN_TOKEN and META_VERIFY_TOKEN\n` : `${path} exists; left unchanged\n`);
  return EXIT_CODES.OK;
}
