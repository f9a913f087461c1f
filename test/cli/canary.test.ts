import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { run } from '../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { handleRotationEvent } from '../../src/rotation/lambda-rotation.js';
import { captureLogger } from '../support/capture-logger.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { cliDeps } from './support.js';

/** A unique value in every text secret, so any leak into output is found by a plain search. */
const CANARIES: Readonly<Record<string, string>> = {
  ADMIN_TOKEN: 'canary-scan-admin-Q1w2E3r4t5Y6u7I8',
  META_VERIFY_TOKEN: 'canary-scan-verify-T5y6U7i8',
  META_APP_SECRET: 'canary-scan-app-O9p0A1s2d3F4g5H6j7',
  DATABASE_URL: 'postgresql://app:canary-scan-db-D3f4@127.0.0.1:5432/app',
  REDIS_URL: 'redis://:canary-scan-redis-G5h6@127.0.0.1:6379',
  OPENAI_API_KEY: 'canary-scan-openai-J7k8',
  WHATSAPP_PHONE_NUMBER_ID: 'canary-scan-phone-L9z0',
  WHATSAPP_ACCESS_TOKEN: 'canary-scan-wa-X1c2',
  OPENAI_MODEL: 'canary-scan-model-V3b4',
};

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:secrets-rotation';

async function currentAdminVersion(): Promise<string | undefined> {
  return (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }))).VersionId;
}
const lsm = useLocalAws({ each: true });

describe('secrets CLI canary scan', () => {
  it('prints no planted or generated value from any command, stopped rotation, resume, rollback, or rotation function, nor writes one to a rotation log, except the --print token on stdout', async () => {
    const c = await cliDeps(lsm);
    const envFile = Object.entries(CANARIES).map(([k, v]) => `${k}=${v}`);
    await writeFile(join(c.cwd, '.env'), [...envFile, 'OPENAI_MAX_TOKENS=canary-scan-notanumber', 'UNLISTED=canary-scan-unlisted'].join('\n'));
    await writeFile(join(c.cwd, 'prod.env'), envFile.join('\n'));
    await writeFile(join(c.cwd, 'bad.env'), 'DATABASE_URL=mysql://canary-scan-bad@h/x\n');
    // A service that accepts any token and reports the admin token's current version; one that refuses every token.
    const server = createServer((_req, res) => {
      void currentAdminVersion().then((versionId) => res.end(JSON.stringify({ secrets: { ADMIN_TOKEN: { versionId } } })));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const refusingServer = createServer((_req, res) => {
      res.statusCode = 401;
      res.end('{}');
    });
    refusingServer.listen(0, '127.0.0.1');
    await once(refusingServer, 'listening');
    const refusing = `http://127.0.0.1:${(refusingServer.address() as { port: number }).port}`;
    const logger = captureLogger();
    lsm.registerRotationFunction(FUNCTION_ARN, (event) => handleRotationEvent(event, { client: localClient(lsm), catalog: whatsappSaasCatalog(), env: {}, logger }));

    const outputs: string[] = [];
    let printed = '';
    const allPrinted: string[] = [];
    const cli = async (argv: string[]) => {
      c.clear();
      const code = await run(argv, c.deps);
      if (argv.includes('--print')) {
        printed = c.stdout().trim() || printed;
        if (c.stdout().trim() !== '') allPrinted.push(c.stdout().trim());
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
      expect(await cli(['rollback', 'admin-token', '--yes', '--json'])).toBe(1);
      expect(await cli(['rollback', 'admin-token', '--yes', '--json', '--force', '--graceful'])).toBe(0);
      expect(await cli(['rotate', 'meta-verify-token', '--yes', '--save-token', 'meta.txt', '--json'])).toBe(0);
      expect(await cli(['rollback', 'meta-verify-token', '--yes'])).toBe(0);
      // A rotation refused at its switch, verified while pending, resumed to the end; another cancelled by rollback.
      lsm.setFaults({ denyStageMoves: ['AWSCURRENT'] });
      expect(await cli(['rotate', 'admin-token', '--yes', '--force', '--url', url])).toBe(1);
      expect(await cli(['verify', 'admin-token', '--json'])).toBe(1);
      lsm.clearFaults();
      expect(await cli(['rotate', 'admin-token', '--yes', '--notify', url])).toBe(0);
      lsm.setFaults({ denyStageMoves: ['AWSCURRENT'] });
      expect(await cli(['rotate', 'admin-token', '--yes', '--force', '--print'])).toBe(1);
      lsm.clearFaults();
      expect(await cli(['rollback', 'admin-token', '--yes', '--json'])).toBe(0);
      expect(await cli(['verify', 'admin-token', '--url', refusing])).toBe(1);
      expect(await cli(['setup', '--from-env', 'prod.env', '--yes', '--enable-rotation', FUNCTION_ARN])).toBe(0);
      await lsm.whenRotationsIdle();
      expect(await cli(['status'])).toBe(0);
      expect(await cli(['check'])).toBe(1);
      expect(await cli(['check', '--json'])).toBe(1);
      expect(await cli(['iam', '--json'])).toBe(0);
      expect(await cli(['alarms', '--json'])).toBe(0);
      expect(await cli(['init', '--env-file', 'fresh.env'])).toBe(0);
      expect(await cli(['init'])).toBe(0);
    } finally {
      server.close();
      refusingServer.close();
    }
    const tokenFiles = (await readdir(c.cwd)).filter((f) => f.endsWith('.txt'));
    const saved = await Promise.all(tokenFiles.map(async (f) => (await readFile(join(c.cwd, f), 'utf8')).trim()));
    const log = await readFile(join(c.cwd, 'admin-token-rotation.log'), 'utf8');
    const metaLog = await readFile(join(c.cwd, 'meta-verify-token-rotation.log'), 'utf8');
    const scanned = [...outputs, log, metaLog, logger.text()].join('\n');

    expect(printed).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(tokenFiles).toEqual(expect.arrayContaining(['tok.txt', 'meta.txt']));
    expect(tokenFiles).toHaveLength(3);
    for (const token of saved) expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(log.trim().split('\n')).toHaveLength(6);
    expect(scanned).not.toMatch(/canary-scan-/);
    expect(allPrinted).toHaveLength(2);
    for (const token of allPrinted) expect(scanned).not.toContain(token);
    for (const token of saved) expect(scanned).not.toContain(token);
    expect(scanned).toContain('hint: instances may not have refreshed');
    expect(scanned).toContain('rotation every 90 days: enabled');
  });
});
