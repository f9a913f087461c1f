import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
import { REPO, spawnService } from './support/service-process.js';
import { waitFor } from './support/wait-for.js';
import { testSecrets } from './support/service-harness.js';

/**
 * What a person reads when the service cannot start or its dependencies are down: each message
 * names what failed, where, and what to change. Real processes, every dependency a closed port.
 */
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svc-startup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An env file whose PostgreSQL and Redis are closed ports: the service starts degraded. */
async function envFileWithDeadDependencies(name: string, dbPassword = 'canary-db-pw-8h7g'): Promise<{ path: string; dbPort: number; redisPort: number }> {
  const dbPort = await freePort();
  const redisPort = await freePort();
  const path = join(dir, name);
  const secrets = testSecrets(`postgresql://app:${dbPassword}@127.0.0.1:${dbPort}/startup_db`, `redis://127.0.0.1:${redisPort}`);
  await writeFile(path, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
  return { path, dbPort, redisPort };
}

async function occupy(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('start-up messages', () => {
  it('names the endpoint and region when Secrets Manager cannot be reached, in one line and without the SDK notice', async () => {
    const port = await freePort();
    const svc = spawnService({
      port: await freePort(),
      env: { USE_AWS_SECRETS: 'true', AWS_REGION: 'eu-west-3', AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ENV_FILE: '/nonexistent/.env', SECRETS_STARTUP_TIMEOUT_MS: '3000' },
    });

    expect(await svc.exited).toBe(1);

    expect(svc.stderr()).toBe(
      `Secrets initialization failed: cannot reach Secrets Manager at http://127.0.0.1:${port}, region eu-west-3 (ECONNREFUSED); check AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION and the network.\n`,
    );
    expect(svc.stdout() + svc.stderr()).not.toContain('NodeVersionSupportWarning');
  }, 60_000);

  it('suggests PORT when the port is taken', async () => {
    const port = await freePort();
    const taken = await occupy(port);
    const { path } = await envFileWithDeadDependencies('port-taken.env');
    try {
      const svc = spawnService({ port, env: { ENV_FILE: path } });

      expect(await svc.exited).toBe(1);
      expect(svc.stderr()).toBe(`Cannot listen on 127.0.0.1:${port}: EADDRINUSE (port ${port} is in use: stop what runs there, or set PORT to a free port (e.g. PORT=${port + 1}))\n`);
    } finally {
      taken.close();
    }
  }, 60_000);

  it('names the host and port of a PostgreSQL and a Redis that are down, never the password', async () => {
    const { path, dbPort, redisPort } = await envFileWithDeadDependencies('deps-down.env');
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: path } });
    try {
      await svc.waitForHealth((b) => b.status === 'degraded', 30_000);
      await waitFor(() => /database\.unavailable/.test(svc.stdout()) && /redis\.unavailable/.test(svc.stdout()), 30_000);

      const lines = svc.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.event === 'database.unavailable')).toMatchObject({ database: `127.0.0.1:${dbPort}/startup_db`, code: 'ECONNREFUSED' });
      expect(lines.find((l) => l.event === 'redis.unavailable')).toMatchObject({ redis: `127.0.0.1:${redisPort}` });
      expect(svc.stdout() + svc.stderr()).not.toContain('canary-db-pw');
    } finally {
      await svc.stop();
    }
  }, 60_000);
});

describe('the dev console on a terminal', () => {
  /** `npm run dev`'s entry with stdout and stderr on a pseudo-terminal (util-linux `script`), as a developer sees it. */
  async function onTerminal(env: Record<string, string>, until: (output: string) => boolean): Promise<string> {
    const command = `exec ${JSON.stringify(process.execPath)} --import tsx src/service/main.ts --dev`;
    const proc = spawn('script', ['-qefc', command, '/dev/null'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir, TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    // 'close': exited and its output read to the end.
    let closed = false;
    const done = once(proc, 'close').then(() => (closed = true));
    await waitFor(() => closed || until(output), 45_000);
    if (!closed) process.kill(-proc.pid!, 'SIGTERM');
    await done;
    return output.replace(/\r\n/g, '\n');
  }

  it('prints one human line, and nothing else, when required secrets are missing', async () => {
    const path = join(dir, 'missing.env');
    await writeFile(path, 'OPENAI_MODEL=gpt-4o\n', { mode: 0o600 });

    const output = await onTerminal({ ENV_FILE: path, PORT: String(await freePort()) }, () => false);

    expect(output.trimEnd().split('\n')).toEqual([expect.stringMatching(/^Secrets initialization failed: missing or invalid required secrets: ADMIN_TOKEN \(missing\).*Set them in .*missing\.env\.$/)]);
  }, 60_000);

  it('logs human lines, not JSON, and no colour with NO_COLOR', async () => {
    const { path } = await envFileWithDeadDependencies('pretty.env');

    const output = await onTerminal({ ENV_FILE: path, PORT: String(await freePort()), NO_COLOR: '1' }, (o) => o.includes('Service listening'));

    const listening = output.split('\n').find((l) => l.includes('Service listening'))!;
    expect(listening).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Service listening /);
    expect(output.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    expect(output).not.toContain('\u001b[3');
    expect(output).not.toContain('canary-');
  }, 60_000);
});
