import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The installed `aws` CLI, or undefined when there is none. */
export async function findAwsCli(): Promise<string | undefined> {
  try {
    const { stdout } = await exec('bash', ['-c', 'command -v aws']);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface AwsLine {
  readonly text: string;
  /** Where it is in the guide, for messages. */
  readonly where: string;
}

/**
 * Checks documented `aws` command lines with the AWS CLI itself: each line runs in bash as
 * written (so quoting and `$(date ...)` behave as for the reader), in a scratch folder, with a PATH
 * that holds only an `aws` that appends `--generate-cli-skeleton` (the CLI parses every option
 * and value, reads `file://` parameters, prints a skeleton and sends nothing) and the few tools
 * the lines use to build values. Every other program (`jq`, `curl`, `shred`) is not found and
 * does nothing. Files the lines name with `file://` exist: the repository's own, else `{}` (or an empty zip).
 */
export async function awsSyntaxProblems(lines: readonly AwsLine[], awsPath: string, repo: string): Promise<string[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'guide-aws-'));
  try {
    const bin = join(scratch, 'bin');
    const work = join(scratch, 'work');
    await mkdir(bin, { recursive: true });
    await mkdir(work, { recursive: true });
    await writeFile(join(bin, 'aws'), '#!/bin/bash\nPATH="$GUIDE_ORIGINAL_PATH" exec "$GUIDE_REAL_AWS" "$@" --generate-cli-skeleton input >/dev/null\n');
    await chmod(join(bin, 'aws'), 0o755);
    const bash = (await exec('bash', ['-c', 'command -v bash'])).stdout.trim();
    for (const tool of ['date', 'cut', 'cat']) {
      const { stdout } = await exec('bash', ['-c', `command -v ${tool}`]);
      await symlink(stdout.trim(), join(bin, tool));
    }
    for (const line of lines) {
      for (const match of line.text.matchAll(/fileb?:\/\/([^\s'"]+)/g)) {
        const path = normalize(match[1]!);
        if (path.startsWith('/') || path.startsWith('..')) continue;
        await mkdir(dirname(join(work, path)), { recursive: true });
        if (existsSync(join(repo, path))) await copyFile(join(repo, path), join(work, path));
        // The CLI checks that a --zip-file is a zip: the smallest one is its end-of-directory record.
        else await writeFile(join(work, path), path.endsWith('.zip') ? Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18)]) : '{}\n');
      }
    }
    const env = {
      ...process.env,
      PATH: bin,
      GUIDE_ORIGINAL_PATH: process.env.PATH ?? '',
      GUIDE_REAL_AWS: awsPath,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const problems: string[] = [];
    // A few at a time: each is a Python start-up.
    for (let i = 0; i < lines.length; i += 4) {
      const results = await Promise.all(
        lines.slice(i, i + 4).map(async (line) => {
          try {
            await exec(bash, ['--noprofile', '--norc', '-c', `command_not_found_handle() { return 0; }\n${line.text}`], { cwd: work, env, timeout: 60_000 });
            return undefined;
          } catch (err) {
            const e = err as { code?: number; stderr?: string };
            const reason = (e.stderr ?? '').trim().split('\n').filter((l) => l.trim() !== '' && !/^usage:|^To see help|^\s+aws (help|<command>)/.test(l.trim())).slice(-3).join(' / ');
            return `${line.where}: the AWS CLI refuses it (exit ${e.code}): ${reason}\n    ${line.text}`;
          }
        }),
      );
      problems.push(...results.filter((p): p is string => p !== undefined));
    }
    return problems;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
