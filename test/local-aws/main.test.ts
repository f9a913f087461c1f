import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PORT, parseCliOptions } from '../../src/local-aws/cli-options.js';

describe('parseCliOptions', () => {
  it('starts on the default port when given nothing', () => {
    expect(parseCliOptions([])).toEqual({ kind: 'start', options: { port: DEFAULT_PORT } });
  });

  it('reads port, host and region', () => {
    expect(parseCliOptions(['--port', '0', '--host', '::1', '--region', 'eu-west-1'])).toEqual({
      kind: 'start',
      options: { port: 0, host: '::1', region: 'eu-west-1' },
    });
  });

  it('answers help for --help', () => {
    expect(parseCliOptions(['--help'])).toEqual({ kind: 'help' });
  });

  it('reports a usage error for a bad port or an unknown flag', () => {
    expect(parseCliOptions(['--port', 'eighty'])).toMatchObject({ kind: 'usage-error' });
    expect(parseCliOptions(['--port', '70000'])).toMatchObject({ kind: 'usage-error' });
    expect(parseCliOptions(['--verbose'])).toMatchObject({ kind: 'usage-error' });
  });
});

describe('npm run local-aws (src/local-aws/main.ts)', () => {
  let child: ChildProcessWithoutNullStreams | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  function start(...args: string[]): ChildProcessWithoutNullStreams {
    // Node itself with tsx's loader, not the tsx CLI: the CLI relays signals to a child process
    // and gives up after 30 ms, which a loaded machine misses (exit 143 instead of 0).
    child = spawn(process.execPath, ['--import', 'tsx', 'src/local-aws/main.ts', ...args], { cwd: process.cwd() });
    return child;
  }

  async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
    let text = '';
    for await (const chunk of stream) {
      text += String(chunk);
      const newline = text.indexOf('\n');
      if (newline >= 0) return text.slice(0, newline);
    }
    return text;
  }

  it('prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const server = start('--port', '0');

    const line = await firstLine(server.stdout);
    expect(line).toMatch(/^local Secrets Manager listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.slice(line.indexOf('http://'));
    const health = await fetch(`${url}/_local/health`);
    expect(await health.json()).toEqual({ status: 'ok' });

    server.kill('SIGTERM');
    const [exitCode] = (await once(server, 'exit')) as [number | null];
    expect(exitCode).toBe(0);
  });

  it('exits 2 with the usage on a usage error', async () => {
    const server = start('--port', 'eighty');
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    const [exitCode] = (await once(server, 'exit')) as [number | null];

    expect(exitCode).toBe(2);
    expect(stderr).toContain('--port must be an integer');
    expect(stderr).toContain('Usage: npm run local-aws');
  });
});
