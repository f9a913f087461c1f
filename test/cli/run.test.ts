import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAwsSource, createSecretsEngine, createSecretsManagerClient } from '../../src/engine/index.js';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { createAll, localClient, startBackdatedLocalAws } from '../support/local-aws.js';
import { freePort } from '../service/support/free-port.js';
import { cliDeps } from './support.js';
// The switch stamp (grace from the switch) is asserted in rotation-steps.test.ts; here only the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../src/engine/source.js';

const DAY = 86_400_000;
const catalog = whatsappSaasCatalog();
const ADMIN_ID = 'whatsapp-saas/mvp/admin-token';
const CANARIES = {
  ADMIN_TOKEN: 'canary-cli-admin-P0o9I8u7y6T5r4E3w2',
  META_VERIFY_TOKEN: 'canary-cli-verify-Y6t5R4e3',
  META_APP_SECRET: 'canary-cli-app-W2q1A2s3d4F5g6H7j8k9',
  DATABASE_URL: 'postgresql://u:canary-cli-db-D4f5@127.0.0.1:5432/app',
  REDIS_URL: 'redis://:canary-cli-redis-G6h7@127.0.0.1:6379',
  OPENAI_API_KEY: 'canary-cli-openai-J8k9',
};

let lsm: LocalSecretsManager;
let setOffsetMs: (ms: number) => void;
const allOutput: string[] = [];

beforeEach(async () => {
  ({ lsm, setOffsetMs } = await startBackdatedLocalAws());
  setOffsetMs(-100 * DAY);
  await createAll(localClient(lsm), catalog, CANARIES);
  setOffsetMs(0);
});

afterEach(async () => {
  await lsm.close();
  const text = allOutput.join('\n');
  allOutput.length = 0;
  expect(text).not.toMatch(/canary-cli-/);
});

async function cli(argv: string[], overrides = {}) {
  const c = await cliDeps(lsm, overrides);
  const code = await run(argv, c.deps);
  allOutput.push(c.stdout(), c.stderr());
  return { code, ...c };
}

async function stages(secretId: string) {
  const out = await localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: secretId }));
  return Object.fromEntries((out.Versions ?? []).map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()]));
}

/**
 * A stand-in with the service's contract for the admin routes: the token must be one the engine
 * accepts (200, else 401); refresh-secrets reloads from the local endpoint.
 */
async function standInService() {
  const engine = createSecretsEngine({ catalog, source: createAwsSource({ client: localClient(lsm), region: 'us-east-1' }) });
  await engine.initialize();
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    const ok = engine.accepted('ADMIN_TOKEN').includes(String(req.headers['x-admin-token']));
    res.statusCode = ok ? 200 : 401;
    if (ok && req.url?.split('?')[0] === '/admin/refresh-secrets') void engine.refresh().then(() => res.end('{}'));
    else res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, engine, server, received };
}

describe('secrets CLI', () => {
  it('shows usage and exits 2 on an unknown command or option', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    const bad = await cli(['status', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr()).toMatch(/Unknown option/);
    expect((await cli(['--help'])).code).toBe(0);
    expect((await cli(['status', 'admin-token'])).stderr()).toContain('status takes no arguments besides options');
    expect((await cli(['rotate', 'database-url', '--yes'])).code).toBe(2);
  });

  it('reports each secret with its version and an overdue admin token, as JSON too', async () => {
    const { code, stdout } = await cli(['status', '--json']);
    const body = JSON.parse(stdout()) as { secrets: { name: string; exists: boolean; rotation: string; versionId: string | null }[] };

    expect(code).toBe(0);
    const admin = body.secrets.find((s) => s.name === 'ADMIN_TOKEN')!;
    expect(admin).toMatchObject({ exists: true, rotation: 'overdue' });
    expect(body.secrets.find((s) => s.name === 'WHATSAPP_ACCESS_TOKEN')).toMatchObject({ exists: false });
  });

  it('tells ok, due within 14 days and overdue after 90 days apart from the admin token\'s last change', async () => {
    expect((await cli(['rotate', 'admin-token', '--yes', '--print', '--force'])).code).toBe(0);
    const t0 = Date.now();
    const rotationAt = async (days: number) => {
      const { stdout } = await cli(['status', '--json'], { now: () => t0 + days * DAY });
      return (JSON.parse(stdout()) as { secrets: { name: string; rotation: string }[] }).secrets.find((s) => s.name === 'ADMIN_TOKEN')!.rotation;
    };
    expect(await rotationAt(0)).toBe('ok');
    expect(await rotationAt(80)).toBe('due');
    expect(await rotationAt(91)).toBe('overdue');
    const table = await cli(['status']);
    expect(table.stdout()).toMatch(/ADMIN_TOKEN\s+yes\s+\S+\s+\S+\s+90 days \(ok\)/);
    expect(table.stdout()).toMatch(/DATABASE_URL\s+yes .*30 days \(overdue\)/);
    expect(table.stdout()).toMatch(/WHATSAPP_ACCESS_TOKEN\s+no .*Per Meta's requirements \(n\/a\)/);
  });

  it('rotates the admin token into a 0600 file, logs versions without values, and refuses a second rotation within 10 minutes', async () => {
    const { code, cwd, stdout } = await cli(['rotate', 'admin-token', '--strategy', 'graceful', '--yes', '--save-token', 'new.txt']);
    expect(code).toBe(0);
    const token = (await readFile(join(cwd, 'new.txt'), 'utf8')).trim();
    expect(token).toHaveLength(64);
    expect((await stat(join(cwd, 'new.txt'))).mode & 0o777).toBe(0o600);
    expect(stdout()).toContain('POST-ROTATION CHECKLIST');
    expect(stdout()).not.toContain(token);
    const log = await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8');
    expect(JSON.parse(log)).toMatchObject({ action: 'rotate', secretId: ADMIN_ID, strategy: 'graceful', caller: 'arn:aws:iam::000000000000:user/test-operator' });
    expect(log).not.toContain(token);
    allOutput.push(log);

    const again = await cli(['rotate', 'admin-token', '--yes', '--print']);
    expect(again.code).toBe(1);
    expect(again.stderr()).toMatch(/less than 10 minutes ago.*--force/);
  });

  it('refuses to overwrite an existing token file before rotating, and leaves no file when the rotation is refused', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'taken.txt'), 'keep me\n');
    expect(await run(['rotate', 'admin-token', '--yes', '--save-token', 'taken.txt'], c.deps)).toBe(1);
    allOutput.push(c.stdout(), c.stderr());
    expect(c.stderr()).toMatch(/Cannot create .*taken\.txt \(EEXIST\); nothing changed/);
    expect(await readFile(join(c.cwd, 'taken.txt'), 'utf8')).toBe('keep me\n');
    expect(Object.keys(await stages(ADMIN_ID))).toHaveLength(1);

    expect((await cli(['rotate', 'admin-token', '--yes', '--print'])).code).toBe(0);
    c.clear();
    expect(await run(['rotate', 'admin-token', '--yes', '--save-token', 'second.txt'], c.deps)).toBe(1);
    allOutput.push(c.stdout(), c.stderr());
    await expect(stat(join(c.cwd, 'second.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('marks an immediate rotation so the engine refuses the previous token at once', async () => {
    const { code } = await cli(['rotate', 'admin-token', '--yes', '--print', '--strategy', 'immediate']);
    expect(code).toBe(0);
    const current = Object.values(await stages(ADMIN_ID)).find((s) => s.includes('AWSCURRENT'));
    expect(current).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE']);
  });

  it('rolls a rotation back through version stages, and only one of two concurrent rollbacks wins', async () => {
    const before = await stages(ADMIN_ID);
    const original = Object.keys(before)[0]!;
    await cli(['rotate', 'admin-token', '--yes', '--print', '--strategy', 'graceful']);

    // Latency makes both read the stages before either moves them: a true race.
    lsm.setFaults({ latencyMs: 100 });
    const results = await Promise.all([cli(['rollback', 'admin-token', '--yes']), cli(['rollback', 'admin-token', '--yes'])]);
    lsm.clearFaults();

    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(results.find((r) => r.code === 1)!.stderr()).toMatch(/changed while rolling back/);
    const after = await stages(ADMIN_ID);
    expect(after[original]).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE']);
    expect(Object.values(after).filter((s) => s.includes('AWSPREVIOUS'))).toHaveLength(1);
  });

  it('fails a rollback cleanly when there is no previous version, touching nothing', async () => {
    const before = await stages(ADMIN_ID);
    const { code, stderr } = await cli(['rollback', 'admin-token', '--yes']);
    expect(code).toBe(1);
    expect(stderr()).toMatch(/no AWSPREVIOUS/);
    expect(await stages(ADMIN_ID)).toEqual(before);
  });

  it('verifies that a running service accepts the current token and refuses the previous one after an immediate rotation', async () => {
    const { url, engine, server } = await standInService();
    try {
      expect((await cli(['verify', 'admin-token', '--url', url])).code).toBe(0);
      expect((await cli(['rotate', 'admin-token', '--yes', '--print', '--notify', url])).code).toBe(0);
      const { code, stdout } = await cli(['verify', 'admin-token', '--url', url, '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout()).checks.map((c: { check: string }) => c.check)).toContain('service refuses previous token (immediate rotation)');
    } finally {
      server.close();
      engine.close();
    }
  });

  it('names the secret and the AWS code when access is denied', async () => {
    lsm.setFaults({ denySecrets: [ADMIN_ID] });
    const { code, stderr } = await cli(['rotate', 'admin-token', '--yes', '--print']);
    expect(code).toBe(1);
    expect(stderr()).toContain(`Access denied to ${ADMIN_ID} (AccessDeniedException)`);
  });

  it('exits 130 when the operator declines', async () => {
    const { code } = await cli(['rotate', 'admin-token'], { confirm: async () => false });
    expect(code).toBe(130);
    expect(Object.keys(await stages(ADMIN_ID))).toHaveLength(1);
  });

  it('accepts the RDS rotation JSON as DATABASE_URL in a .env check', async () => {
    const c = await cliDeps(lsm);
    const rds = JSON.stringify({ engine: 'postgres', host: 'db.internal', port: 5432, username: 'app', password: 'canary-cli-rds-9k8j', dbname: 'app' });
    await writeFile(join(c.cwd, '.env'), `DATABASE_URL='${rds}'\n`);
    const code = await run(['check', '--json'], c.deps);
    allOutput.push(c.stdout(), c.stderr());
    const { findings } = JSON.parse(c.stdout()) as { findings: { name: string; problem: string }[] };
    expect(code).toBe(1);
    expect(findings.filter((f) => f.name === 'DATABASE_URL')).toEqual([]);
    expect(c.stdout() + c.stderr()).not.toContain('canary-cli-rds');
  });

  it('checks a .env against the catalog without printing values', async () => {
    const c = await cliDeps(lsm);
    await writeFile(
      join(c.cwd, '.env'),
      `ADMIN_TOKEN=${CANARIES.ADMIN_TOKEN}\nDATABASE_URL=mysql://canary-cli-bad@h/x\nOPENAI_MAX_TOKENS=canary-cli-nan\nSURPRISE=canary-cli-x\n`,
    );
    const code = await run(['check', '--json'], c.deps);
    allOutput.push(c.stdout(), c.stderr());
    const { findings } = JSON.parse(c.stdout()) as { findings: { name: string; problem: string }[] };
    expect(code).toBe(1);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'DATABASE_URL', problem: 'invalid' }),
        expect.objectContaining({ name: 'OPENAI_MAX_TOKENS', problem: 'invalid' }),
        expect.objectContaining({ name: 'META_APP_SECRET', problem: 'missing' }),
        expect.objectContaining({ name: 'SURPRISE', problem: 'unknown' }),
      ]),
    );
  });

  it('prints help per command and exits 0', async () => {
    for (const command of ['setup', 'status', 'rotate', 'rollback', 'verify', 'iam', 'init', 'check']) {
      const { code, stdout } = await cli([command, '--help']);
      expect(code).toBe(0);
      expect(stdout()).toContain(`Usage: secrets ${command}`);
      expect(stdout()).toContain('--endpoint-url');
    }
    expect((await cli(['help', 'rotate'])).stdout()).toContain('--strategy immediate');
  });

  it('names the missing secret id when it does not exist', async () => {
    const { code, stderr } = await cli(['rollback', 'admin-token', '--yes', '--environment', 'staging']);
    expect(code).toBe(1);
    expect(stderr()).toContain('Secret whatsapp-saas/staging/admin-token not found (ResourceNotFoundException)');
  });

  it('says the request was throttled, and to retry', async () => {
    lsm.setFaults({ throttle: true });
    const { code, stderr } = await cli(['verify', 'admin-token']);
    expect(code).toBe(1);
    expect(stderr()).toMatch(/throttled the request for whatsapp-saas\/mvp\/admin-token \(ThrottlingException\): retry/);
  });

  it('says Secrets Manager cannot be reached, naming the endpoint options, when nothing listens', async () => {
    // Not a port the OS picked and took back: the next listen on port 0 anywhere could get it.
    const port = await freePort();
    const unreachable = () => createSecretsManagerClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const { code, stderr } = await cli(['verify', 'admin-token'], { secretsManager: unreachable });
    expect(code).toBe(1);
    expect(stderr()).toContain(`Cannot reach Secrets Manager for ${ADMIN_ID} (ECONNREFUSED): check the network, --region and --endpoint-url`);
  });

  it('says how to provide credentials when there are none', async () => {
    const noCredentials = () =>
      createSecretsManagerClient({
        region: 'us-east-1',
        endpoint: lsm.url,
        credentials: async () => {
          throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
        },
        maxAttempts: 1,
      });
    const { code, stderr } = await cli(['status'], { secretsManager: noCredentials });
    expect(code).toBe(1);
    expect(stderr()).toMatch(/No AWS credentials found: set AWS_PROFILE \(or --profile\)/);
  });

  it('notifies the service after a rollback with the token it still holds as current', async () => {
    const { url, engine, server, received } = await standInService();
    try {
      expect((await cli(['rotate', 'admin-token', '--yes', '--print', '--strategy', 'graceful', '--notify', url])).code).toBe(0);
      const { code, stdout } = await cli(['rollback', 'admin-token', '--yes', '--notify', url]);
      expect(code).toBe(0);
      expect(stdout()).toContain(`Notified ${url}: refreshed`);
      expect(received).toEqual(['POST /admin/refresh-secrets?names=ADMIN_TOKEN', 'POST /admin/refresh-secrets?names=ADMIN_TOKEN']);
      expect((await cli(['verify', 'admin-token', '--url', url])).code).toBe(0);
    } finally {
      server.close();
      engine.close();
    }
  });

  it('runs as a real binary without the SDK support warning in its output', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', '--endpoint-url', lsm.url], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    allOutput.push(output);
    expect(code).toBe(0);
    expect(output).toContain('whatsapp-saas/mvp');
    expect(output).not.toContain('NodeVersionSupportWarning');
  });
});
