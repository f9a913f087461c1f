import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClient, useLocalAws } from '../support/local-aws.js';

/**
 * `secrets setup` typed into by a person: the real bin and @inquirer/prompts on a pseudo-terminal
 * (util-linux `script`), keys sent only once the prompt they answer is on screen.
 */
const REPO = resolve(import.meta.dirname, '../..');
const ESC = String.fromCharCode(27);
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);
let dir: string;

const lsm = useLocalAws();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'setup-tty-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function onTerminal(args: string, env: Record<string, string>) {
  const command = `exec ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts -- ${args}`;
  const proc = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm', COLUMNS: '200', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(proc, 'close').then(([code]) => code as number);
  let seen = 0;
  /** Waits for `text` to appear after what was already answered, then types `keys`. */
  const answer = async (text: string, keys: string) => {
    const started = Date.now();
    while (output.indexOf(text, seen) < 0) {
      if (Date.now() - started > 45_000) throw new Error(`no "${text}" on screen:\n${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    seen = output.indexOf(text, seen) + text.length;
    proc.stdin.write(keys);
  };
  return { answer, exited, output: () => output };
}

describe('secrets setup on a terminal', () => {
  it('checks each value as it is typed, lets the operator fix it, and ends with a summary', async () => {
    const run = onTerminal(`setup --endpoint-url ${lsm.url} --project tty --policies-dir ${join(dir, 'policies')}`, { NO_COLOR: '1' });

    await run.answer('Create the secrets?', 'y\r');
    await run.answer('META_APP_SECRET (', 'canary-tty-app-1q2w3e4r5t6y7u8i9o0p\r');
    await run.answer('DATABASE_URL (', 'mysql://canary-tty-bad@h/db\r');
    await run.answer('wrong scheme (expected postgres: or postgresql:)', '\u0015postgresql://h/db\r');
    await run.answer('REDIS_URL (', 'redis://h:6379\r');
    await run.answer('OPENAI_API_KEY (', 'k\r');
    for (const name of ['WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_ACCESS_TOKEN', 'OPENAI_MODEL', 'OPENAI_MAX_TOKENS', 'OPENAI_TEMPERATURE']) await run.answer(`${name} (`, '\r');

    expect(await run.exited).toBe(0);
    const output = run.output();
    expect(output).toContain(`Setup done: 6 created (2 generated), 0 updated, 0 unchanged, 5 optional skipped. IAM policies written to ${join(dir, 'policies')}`);
    expect(output).not.toContain('(expected postgres: or postgresql:) (expected');
    expect(output).not.toMatch(/canary-tty-/);
    expect(output).not.toMatch(SGR);
    const stored = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'tty/mvp/database-url' }));
    expect(stored.SecretString).toBe('postgresql://h/db');
  }, 90_000);

  it('uses colour on a terminal when NO_COLOR is not set', async () => {
    const run = onTerminal(`setup --endpoint-url ${lsm.url} --project tty-colour`, {});

    await run.answer('Create the secrets?', 'n\r');

    expect(await run.exited).toBe(130);
    expect(run.output()).toMatch(SGR);
  }, 60_000);
});
