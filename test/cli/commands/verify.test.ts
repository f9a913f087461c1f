import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliDeps } from '../../../src/cli/deps.js';
import { run } from '../../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../../support/local-aws.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';

const T0 = 'canary-verify-original-N8m7B6v5';

let lsm: LocalSecretsManager;
let projects = 0;
const outputs: string[] = [];
const secrets = new Set<string>([T0]);

beforeAll(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterAll(async () => {
  await lsm.close();
});
afterEach(() => {
  const text = outputs.join('\n');
  outputs.length = 0;
  for (const s of secrets) expect(text).not.toContain(s);
});

async function scenario() {
  const project = `vf${++projects}`;
  await localClient(lsm).send(new CreateSecretCommand({ Name: whatsappSaasCatalog({ project }).entry('ADMIN_TOKEN')!.awsId, SecretString: T0 }));
  return { project, cwd: await mkdtemp(join(tmpdir(), 'secrets-verify-')) };
}

async function secretsCli(argv: string[], cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDeps = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd,
    now: () => Date.now(),
    secretsManager: () => localClient(lsm),
    callerArn: async () => 'unknown',
    fetch,
    confirm: async () => true,
    promptSecret: async () => '',
    terraformOutputs: async () => ({}),
  };
  const code = await run(argv, deps);
  const printed = argv.includes('--print') ? out.join('').trim() : '';
  if (printed !== '') secrets.add(printed);
  outputs.push(printed === '' ? out.join('') : '', err.join(''));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('secrets verify admin-token', () => {
  it('hints that instances may not have refreshed when the service refuses the current token after a rollback', async () => {
    const { project, cwd } = await scenario();
    const service = await startStandInService(lsm, project);
    try {
      await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);
      await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd);

      const stale = await secretsCli(['verify', 'admin-token', '--project', project, '--url', service.url], cwd);

      expect(stale.code).toBe(1);
      expect(stale.stdout).toContain('[FAIL] service accepts current token: HTTP 401');
      expect(stale.stdout).toContain(`hint: instances may not have refreshed since the last rotation or rollback: POST ${service.url}/admin/refresh-secrets`);
      const json = await secretsCli(['verify', 'admin-token', '--project', project, '--url', service.url, '--json'], cwd);
      const checks = (JSON.parse(json.stdout) as { checks: { check: string; hint?: string }[] }).checks;
      expect(checks.find((c) => c.check === 'service accepts current token')!.hint).toMatch(/may not have refreshed/);

      await service.engine.refresh();
      const fresh = await secretsCli(['verify', 'admin-token', '--project', project, '--url', service.url], cwd);
      expect(fresh.code).toBe(0);
      expect(fresh.stdout).toContain('[OK] service refuses previous token (immediate rotation): HTTP 401');
      expect(fresh.stdout).not.toContain('hint:');
    } finally {
      await service.close();
    }
  });

  it('fails while a rotation is unfinished and says how to finish or cancel it', async () => {
    const { project, cwd } = await scenario();
    lsm.setFaults({ denyOperations: ['UpdateSecretVersionStage'] });
    try {
      expect((await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], cwd)).code).toBe(1);
    } finally {
      lsm.clearFaults();
    }

    const { code, stdout } = await secretsCli(['verify', 'admin-token', '--project', project], cwd);

    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] no unfinished rotation: version \S+ is AWSPENDING/);
    expect(stdout).toContain('hint: finish it with the same "secrets rotate admin-token" command, or cancel it with "secrets rollback admin-token"');
  });
});
