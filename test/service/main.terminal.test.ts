import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { SHARED_REDIS_URL } from './support/redis-server.js';
import { REPO } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';

/**
 * `npm run dev` at a terminal (a pseudo-terminal from util-linux `script`): what a person reads
 * when start-up fails. The database is real and reachable, so a start-up that went on would say
 * "Database ready".
 */
let dir: string;
let database: ThrowawayDatabase;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svc-terminal-'));
  database = await throwawayDatabase('svc_terminal', { create: false });
});
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

/** The service entry with --dev in a pseudo-terminal; resolves with everything the terminal showed. */
async function atTerminal(env: Record<string, string>): Promise<{ code: number | null; screen: string }> {
  const command = `${process.execPath} --import tsx ${join(REPO, 'src/service/main.ts')} --dev`;
  const proc = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TERM: 'dumb', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let screen = '';
  proc.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (screen += d.toString()));
  const [code] = (await once(proc, 'close')) as [number | null];
  return { code, screen };
}

describe('the dev console', () => {
  it('reports a port in use once, and starts nothing after it', async () => {
    const port = await freePort();
    const taken = createServer();
    taken.listen(port, '127.0.0.1');
    await once(taken, 'listening');
    const envFile = join(dir, 'port.env');
    await writeFile(envFile, Object.entries(testSecrets(database.url, SHARED_REDIS_URL)).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    try {
      const { code, screen } = await atTerminal({ ENV_FILE: envFile, PORT: String(port) });

      expect(code).toBe(1);
      expect(screen.match(/EADDRINUSE/g)).toHaveLength(1);
      expect(screen).toContain(`Cannot listen on 127.0.0.1:${port}: EADDRINUSE (port ${port} is in use: stop what runs there, or set PORT to a free port (e.g. PORT=${port + 1}))`);
      expect(screen).not.toContain('Database ready');
      expect(screen).not.toContain('canary-');
    } finally {
      taken.close();
    }
  }, 60_000);
});
