import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { run } from '../../src/cli/run.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../support/local-aws.js';
import { cliDeps } from './support.js';

let lsm: LocalSecretsManager;
beforeEach(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterEach(async () => {
  await lsm.close();
});

const ENV = [
  'META_APP_SECRET=canary-setup-app-1a2b',
  'DATABASE_URL=postgresql://app:canary-setup-db-3c4d@127.0.0.1:5432/app',
  'REDIS_URL=redis://127.0.0.1:6379',
  'OPENAI_API_KEY=canary-setup-openai-5e6f',
  'OPENAI_MAX_TOKENS=2000',
].join('\n');

async function versionCounts(): Promise<Record<string, number>> {
  const client = localClient(lsm);
  const ids = ['admin-token', 'meta-app-secret', 'database-url', 'openai-max-tokens'].map((n) => `whatsapp-saas/mvp/${n}`);
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (await client.send(new ListSecretVersionIdsCommand({ SecretId: id }))).Versions?.length ?? 0;
  return out;
}

describe('secrets setup', () => {
  it('creates the catalog from an env file with generated tokens and tags, and a re-run changes nothing', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);

    const code = await run(['setup', '--from-env', 'prod.env', '--yes', '--json'], c.deps);
    const rows = (JSON.parse(c.stdout()) as { secrets: { name: string; action: string; generated: boolean }[] }).secrets;

    expect(code).toBe(0);
    expect(rows.find((r) => r.name === 'ADMIN_TOKEN')).toMatchObject({ action: 'created', generated: true });
    expect(rows.find((r) => r.name === 'META_APP_SECRET')).toMatchObject({ action: 'created', generated: false });
    expect(rows.find((r) => r.name === 'WHATSAPP_ACCESS_TOKEN')).toMatchObject({ action: 'skipped' });
    const described = await localClient(lsm).send(new DescribeSecretCommand({ SecretId: 'whatsapp-saas/mvp/database-url' }));
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: 'Project', Value: 'whatsapp-saas' }, { Key: 'Environment', Value: 'mvp' }]));
    expect(described.Description).toBe('PostgreSQL connection string');
    const admin = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }))).SecretString!;
    expect(Buffer.from(admin, 'base64')).toHaveLength(48);
    const before = await versionCounts();

    c.clear();
    const again = await run(['setup', '--from-env', 'prod.env', '--yes', '--json'], c.deps);
    const rerun = (JSON.parse(c.stdout()) as { secrets: { action: string }[] }).secrets.map((r) => r.action);

    expect(again).toBe(0);
    expect(new Set(rerun)).toEqual(new Set(['unchanged', 'skipped']));
    expect(await versionCounts()).toEqual(before);
    expect(c.stdout() + c.stderr()).not.toMatch(/canary-setup-|[A-Za-z0-9+/]{60,}/);
  });

  it('writes a new version only for a value that changed', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);
    await run(['setup', '--from-env', 'prod.env', '--yes'], c.deps);
    await writeFile(join(c.cwd, 'prod.env'), ENV.replace('OPENAI_MAX_TOKENS=2000', 'OPENAI_MAX_TOKENS=3000'));
    c.clear();

    await run(['setup', '--from-env', 'prod.env', '--yes', '--json'], c.deps);
    const rows = (JSON.parse(c.stdout()) as { secrets: { name: string; action: string }[] }).secrets;

    expect(rows.filter((r) => r.action === 'updated').map((r) => r.name)).toEqual(['OPENAI_MAX_TOKENS']);
  });

  it('refuses an invalid value by name without echoing it, before writing anything', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV.replace('redis://127.0.0.1:6379', 'http://canary-setup-bad-7g8h'));

    const code = await run(['setup', '--from-env', 'prod.env', '--yes'], c.deps);

    expect(code).toBe(2);
    expect(c.stderr()).toContain('REDIS_URL is invalid: wrong scheme');
    expect(c.stderr()).not.toContain('canary-setup-bad');
    expect(lsm.counts().CreateSecret ?? 0).toBe(0);
  });

  it('reports required secrets it could not set and exits 1', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'partial.env'), 'REDIS_URL=redis://127.0.0.1:6379\n');
    const code = await run(['setup', '--from-env', 'partial.env', '--yes'], c.deps);
    expect(code).toBe(1);
    expect(c.stdout()).toMatch(/DATABASE_URL\s+missing/);
  });
});

describe('secrets setup --terraform-dir', () => {
  it('builds DATABASE_URL from the RDS endpoint output and names only the host', async () => {
    const c = await cliDeps(lsm, {
      terraformOutputs: async () => ({
        rds_endpoint: { value: 'db-instance.us-east-1.rds.amazonaws.com:5432' },
        db_username: { value: 'app' },
        db_password: { value: 'canary-tf-pass-1q2w', sensitive: true },
        db_name: { value: 'whatsapp_saas' },
      }),
    });
    await writeFile(join(c.cwd, 'prod.env'), ENV.split('\n').filter((l) => !l.startsWith('DATABASE_URL')).join('\n'));

    const code = await run(['setup', '--from-env', 'prod.env', '--terraform-dir', 'infra', '--yes'], c.deps);

    expect(code).toBe(0);
    expect(c.stderr()).toContain('Found RDS endpoint from Terraform: db-instance.us-east-1.rds.amazonaws.com');
    const stored = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/database-url' }))).SecretString;
    expect(stored).toBe('postgresql://app:canary-tf-pass-1q2w@db-instance.us-east-1.rds.amazonaws.com:5432/whatsapp_saas');
    expect(c.stdout() + c.stderr()).not.toContain('canary-tf-pass');
  });

  it('stores an RDS secret JSON output as it is, so rotation keeps its form', async () => {
    const rds = { engine: 'postgres', host: 'db-json.us-east-1.rds.amazonaws.com', port: 5432, username: 'app', password: 'canary-tf-json-3e4r', dbname: 'whatsapp_saas' };
    const c = await cliDeps(lsm, { terraformOutputs: async () => ({ database_url: { value: rds, sensitive: true } }) });
    await writeFile(join(c.cwd, 'prod.env'), ENV.split('\n').filter((l) => !l.startsWith('DATABASE_URL')).join('\n'));

    const code = await run(['setup', '--from-env', 'prod.env', '--terraform-dir', 'infra', '--yes'], c.deps);

    expect(code).toBe(0);
    expect(c.stderr()).toContain('db-json.us-east-1.rds.amazonaws.com');
    const stored = (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/database-url' }))).SecretString;
    expect(JSON.parse(stored!)).toEqual(rds);
    expect(c.stdout() + c.stderr()).not.toContain('canary-tf-json');
  });

  it('fails clearly when Terraform has no database output', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), 'REDIS_URL=redis://127.0.0.1:6379\n');
    const code = await run(['setup', '--from-env', 'prod.env', '--terraform-dir', 'infra', '--yes'], c.deps);
    expect(code).toBe(1);
    expect(c.stderr()).toMatch(/No database_url or RDS endpoint output/);
  });

});

describe('secrets setup, interactively', () => {
  it('asks for each value with a hidden prompt, keeps the stored one on an empty answer, and never generates over a stored token', async () => {
    const asked: string[] = [];
    const answers: Record<string, string> = { META_APP_SECRET: 'canary-setup-prompt-7g8h', DATABASE_URL: 'postgresql://h/db', REDIS_URL: 'redis://h:6379', OPENAI_API_KEY: 'k', OPENAI_MAX_TOKENS: '2000' };
    const c = await cliDeps(lsm, {
      promptSecret: async (question: string) => {
        const name = question.split(' ')[0]!;
        asked.push(name);
        return answers[name] ?? '';
      },
    });
    expect(await run(['setup'], c.deps)).toBe(0);
    expect(asked).not.toContain('ADMIN_TOKEN');
    expect(asked).toEqual(expect.arrayContaining(['META_APP_SECRET', 'DATABASE_URL', 'OPENAI_API_KEY']));
    const stored = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/meta-app-secret' }));
    expect(stored.SecretString).toBe(answers.META_APP_SECRET);

    const before = await versionCounts();
    answers.META_APP_SECRET = '';
    c.clear();
    expect(await run(['setup', '--json'], c.deps)).toBe(0);
    expect(await versionCounts()).toEqual(before);
    expect(c.stdout() + c.stderr()).not.toContain('canary-setup-');
  });

  it('exits 130 and creates nothing when the operator declines or presses Ctrl-C', async () => {
    const declined = await cliDeps(lsm, { confirm: async () => false });
    expect(await run(['setup'], declined.deps)).toBe(130);
    const interrupted = await cliDeps(lsm, {
      confirm: async () => {
        throw new CliError('CANCELLED', 'Cancelled; nothing changed');
      },
    });
    expect(await run(['setup'], interrupted.deps)).toBe(130);
    expect(interrupted.stderr()).toContain('Cancelled; nothing changed');
    expect(lsm.counts()).not.toHaveProperty('CreateSecret');
  });
});
