import { execFile } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scratch copy of the repository to follow the guide in: package.json and .env.example copied
 * (the latter with planted values), the code and node_modules linked. `npm run`, `scripts/*.sh`
 * and the CLI work there as in a clone, and whatever the guide's commands write (.env, token
 * files, rotation logs, policies) stays out of the working tree.
 */
export interface GuideWorkspace {
  readonly dir: string;
  /** The environment blocks run in: nothing from the caller's AWS or npm settings. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

// Never a folder a command writes to (iam-policies/, the working tree's .env): a block must not reach the real tree.
const LINKED = ['node_modules', 'src', 'scripts', 'tsconfig.json'];

export async function createGuideWorkspace(repo: string, options: { planted: Readonly<Record<string, string>>; endpointUrl: string }): Promise<GuideWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'guide-run-'));
  for (const name of LINKED) await symlink(join(repo, name), join(dir, name));
  await copyFile(join(repo, 'package.json'), join(dir, 'package.json'));
  let example = await readFile(join(repo, '.env.example'), 'utf8');
  for (const [name, value] of Object.entries(options.planted)) {
    const line = new RegExp(`^${name}=.*$`, 'm');
    if (!line.test(example)) throw new Error(`.env.example has no ${name}= line to plant a value in`);
    example = example.replace(line, `${name}=${value}`);
  }
  await writeFile(join(dir, '.env.example'), example);
  await mkdir(join(dir, 'home'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    AWS_REGION: 'us-east-1',
    // Every AWS call of a block goes to the local endpoint; no credentials, no metadata lookups.
    AWS_ENDPOINT_URL_SECRETS_MANAGER: options.endpointUrl,
    AWS_ENDPOINT_URL: options.endpointUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  return { dir, env, close: () => rm(dir, { recursive: true, force: true }) };
}

export interface BlockRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a block as a bash script (`-e -o pipefail`): it stops at the first failing command, whose code it exits with. */
export function runBlock(ws: GuideWorkspace, code: string, timeoutMs: number): Promise<BlockRun> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', code],
      { cwd: ws.dir, env: ws.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const exitCode = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
        resolve({ exitCode, stdout, stderr });
      },
    );
  });
}

/** Every file the blocks wrote (not following the links to the repository), with its text. */
export async function writtenFiles(ws: GuideWorkspace): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const stats = await lstat(path);
      if (stats.isSymbolicLink()) continue;
      if (stats.isDirectory()) await walk(path);
      else if (stats.isFile() && stats.size < 1024 * 1024) out.push({ path, text: await readFile(path, 'utf8') });
    }
  };
  await walk(ws.dir);
  return out;
}
