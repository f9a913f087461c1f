import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../service/support/free-port.js';
import { REPO } from '../service/support/service-process.js';
import { testSecrets } from '../service/support/service-harness.js';
import { waitFor } from '../service/support/wait-for.js';

/**
 * `npm run dev:aws` for real: bash, the local endpoint and the service as processes, free ports,
 * and a port made busy by the test. PostgreSQL and Redis are closed ports (the service runs
 * degraded), so nothing here touches the shared servers.
 */
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dev-aws-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Ctrl-C: SIGINT to the whole process group, as a terminal sends it. */
  interrupt(): void;
}

function devAws(env: Record<string, string>): Run {
  const proc = spawn('bash', ['scripts/dev-aws.sh'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(proc, 'close').then(([code, signal]) => (signal !== null ? -1 : (code as number)));
  return { output: () => output, exited, interrupt: () => process.kill(-proc.pid!, 'SIGINT') };
}

async function envFile(name: string): Promise<string> {
  const path = join(dir, name);
  const secrets = testSecrets(`postgresql://app:canary-devaws-pw-4r5t@127.0.0.1:${await freePort()}/x`, `redis://127.0.0.1:${await freePort()}`);
  await writeFile(path, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
  return path;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Every absolute path the script printed still exists: it never names a folder it then deletes. */
function printedPathsExist(output: string): void {
  for (const [path] of output.matchAll(/\/(?:tmp|var|work|root|home)\/[^\s:;,'")]+/g)) expect(existsSync(path), path).toBe(true);
}

/** An HTTP server on `port` that counts requests: nothing may be seeded into it. */
async function squatter(port: number): Promise<{ server: Server; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer((_req, res) => (requests++, res.end('{}')));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, requests: () => requests };
}

describe('npm run dev:aws', () => {
  it('runs the service in AWS mode on the ports it was given, and stops everything on Ctrl-C', async () => {
    const awsPort = await freePort();
    const port = await freePort();
    const run = devAws({ LOCAL_AWS_PORT: String(awsPort), PORT: String(port), ENV_FILE: await envFile('happy.env') });

    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return res !== undefined && ((await res.json()) as { services: { secrets: { source: string } } }).services.secrets.source === 'aws';
    }, 90_000);
    expect(run.output()).toContain(`local Secrets Manager endpoint on http://127.0.0.1:${awsPort} (LOCAL_AWS_PORT=${awsPort})`);
    expect(run.output()).toContain(`starting the service on port ${port} (PORT)`);
    run.interrupt();

    expect(await run.exited).toBe(130);
    expect(await listening(awsPort)).toBe(false);
    expect(await listening(port)).toBe(false);
    printedPathsExist(run.output());
    expect(run.output()).not.toContain('canary-');
  }, 180_000);

  it('refuses a local endpoint port already in use, and seeds nothing into it', async () => {
    const awsPort = await freePort();
    const busy = await squatter(awsPort);
    try {
      const run = devAws({ LOCAL_AWS_PORT: String(awsPort), PORT: String(await freePort()), ENV_FILE: await envFile('aws-busy.env') });

      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`dev:aws: port ${awsPort} (LOCAL_AWS_PORT, the local Secrets Manager endpoint) is already in use: stop what runs there, or set LOCAL_AWS_PORT to a free port`);
      expect(busy.requests()).toBe(0);
    } finally {
      busy.server.close();
    }
  }, 60_000);

  it('refuses a service port already in use before starting anything', async () => {
    const awsPort = await freePort();
    const port = await freePort();
    const busy = await squatter(port);
    try {
      const run = devAws({ LOCAL_AWS_PORT: String(awsPort), PORT: String(port), ENV_FILE: await envFile('svc-busy.env') });

      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`dev:aws: port ${port} (PORT, the service) is already in use: stop what runs there, or set PORT to a free port`);
      expect(await listening(awsPort)).toBe(false);
    } finally {
      busy.server.close();
    }
  }, 60_000);

  it('stops the local endpoint when the service cannot listen', async () => {
    const awsPort = await freePort();
    // An address that is not this machine's: the service's listen fails with EADDRNOTAVAIL.
    const run = devAws({ LOCAL_AWS_PORT: String(awsPort), PORT: String(await freePort()), HOST: '203.0.113.7', ENV_FILE: await envFile('no-listen.env') });

    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('EADDRNOTAVAIL (203.0.113.7 is not an address of this machine: set HOST');
    expect(await listening(awsPort)).toBe(false);
    printedPathsExist(run.output());
  }, 120_000);
});
