import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { cliDeps } from './support.js';

/** A unique value in every text secret, so any leak into output is found by a plain search. */
const CANARIES: Readonly<Record<string, string>> = {
  ADMIN_TOKEN: 'canary-scan-admin-Q1w2E3r4',
  META_VERIFY_TOKEN: 'canary-scan-verify-T5y6U7i8',
  META_APP_SECRET: 'canary-scan-app-O9p0A1s2',
  DATABASE_URL: 'postgresql://app:canary-scan-db-D3f4@127.0.0.1:5432/app',
  REDIS_URL: 'redis://:canary-scan-redis-G5h6@127.0.0.1:6379',
  OPENAI_API_KEY: 'canary-scan-openai-J7k8',
  WHATSAPP_PHONE_NUMBER_ID: 'canary-scan-phone-L9z0',
  WHATSAPP_ACCESS_TOKEN: 'canary-scan-wa-X1c2',
  OPENAI_MODEL: 'canary-scan-model-V3b4',
};

let lsm: LocalSecretsManager;
beforeEach(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterEach(async () => {
  await lsm.close();
});

describe('secrets CLI canary scan', () => {
  it('prints no planted value from any command, nor writes one to the rotation log, except the --print token on stdout', async () => {
    const c = await cliDeps(lsm);
    const envFile = Object.entries(CANARIES).map(([k, v]) => `${k}=${v}`);
    await writeFile(join(c.cwd, '.env'), [...envFile, 'OPENAI_MAX_TOKENS=canary-scan-notanumber', 'UNLISTED=canary-scan-unlisted'].join('\n'));
    await writeFile(join(c.cwd, 'prod.env'), envFile.join('\n'));
    await writeFile(join(c.cwd, 'bad.env'), 'DATABASE_URL=mysql://canary-scan-bad@h/x\n');
    // A service that accepts any token and echoes nothing back.
    const server = createServer((_req, res) => res.end('{}'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    const outputs: string[] = [];
    let printed = '';
    const cli = async (argv: string[]) => {
      c.clear();
      const code = await run(argv, c.deps);
      if (argv.includes('--print')) {
        printed = c.stdout().trim();
        outputs.push(c.stderr());
      } else outputs.push(c.stdout(), c.stderr());
      return code;
    };
    try {
      expect(await cli(['setup', '--from-env', 'bad.env', '--yes'])).toBe(2);
      expect(await cli(['setup', '--from-env', 'prod.env', '--yes'])).toBe(0);
      expect(await cli(['setup', '--from-env', 'prod.env', '--yes', '--json'])).toBe(0);
      expect(await cli(['status'])).toBe(0);
      expect(await cli(['status', '--json'])).toBe(0);
      expect(await cli(['verify', 'admin-token', '--url', url, '--json'])).toBe(0);
      expect(await cli(['rotate', 'admin-token', '--yes', '--force', '--print', '--notify', url])).toBe(0);
      expect(await cli(['rotate', 'admin-token', '--yes', '--force', '--save-token', 'tok.txt', '--strategy', 'graceful', '--json'])).toBe(0);
      expect(await cli(['verify', 'admin-token', '--url', url])).toBe(0);
      expect(await cli(['rollback', 'admin-token', '--yes', '--notify', url])).toBe(0);
      expect(await cli(['rollback', 'admin-token', '--yes', '--json'])).toBe(0);
      expect(await cli(['check'])).toBe(1);
      expect(await cli(['check', '--json'])).toBe(1);
      expect(await cli(['iam', '--json'])).toBe(0);
      expect(await cli(['alarms', '--json'])).toBe(0);
      expect(await cli(['init', '--env-file', 'fresh.env'])).toBe(0);
      expect(await cli(['init'])).toBe(0);
    } finally {
      server.close();
    }
    const saved = (await readFile(join(c.cwd, 'tok.txt'), 'utf8')).trim();
    const log = await readFile(join(c.cwd, 'admin-token-rotation.log'), 'utf8');
    const scanned = [...outputs, log].join('\n');

    expect(printed).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(saved).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(log.trim().split('\n')).toHaveLength(4);
    expect(scanned).not.toMatch(/canary-scan-/);
    expect(scanned).not.toContain(printed);
    expect(scanned).not.toContain(saved);
  });
});
