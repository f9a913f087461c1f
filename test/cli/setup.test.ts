import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError, NO_CREDENTIALS } from '../../src/cli/errors.js';
import { run } from '../../src/cli/run.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../support/local-aws.js';
import { cliDeps } from './support.js';
import { PLACEHOLDERS } from '../../src/provisioning/placeholder.js';

const exec = promisify(execFile);
let lsm: LocalSecretsManager;
beforeEach(async () => {
  lsm = await startLocalSecretsManager({ port: 0 });
});
afterEach(async () => {
  await lsm.close();
});

const ENV = [
  'META_APP_SECRET=canary-setup-app-1a2b3c4d5e6f7g8h9i0j',
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

async function currentVersionId(name: string): Promise<string | undefined> {
  return (await localClient(lsm).send(new GetSecretValueCommand({ SecretId: `whatsapp-saas/mvp/${name}` }))).VersionId;
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
    expect(admin).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(new URL(`http://127.0.0.1/webhook?hub.verify_token=${admin}`).searchParams.get('hub.verify_token')).toBe(admin);
    const before = await versionCounts();

    c.clear();
    const again = await run(['setup', '--from-env', 'prod.env', '--yes', '--json'], c.deps);
    const rerun = (JSON.parse(c.stdout()) as { secrets: { action: string }[] }).secrets.map((r) => r.action);

    expect(again).toBe(0);
    expect(new Set(rerun)).toEqual(new Set(['unchanged', 'skipped']));
    expect(await versionCounts()).toEqual(before);
    expect(c.stdout() + c.stderr()).not.toMatch(/canary-setup-|[A-Za-z0-9_-]{60,}/);
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

  it('leaves a secret rotated since setup alone and names it: a re-run after a rotation changes nothing', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-9z8y7x6w5v4u3t2s1r0q`);
    await run(['setup', '--from-env', 'prod.env', '--yes'], c.deps);
    expect(await run(['rotate', 'admin-token', '--yes'], c.deps)).toBe(0);
    const rotatedId = await currentVersionId('admin-token');
    const before = await versionCounts();
    c.clear();

    const code = await run(['setup', '--from-env', 'prod.env', '--yes', '--json'], c.deps);
    const rows = (JSON.parse(c.stdout()) as { secrets: { name: string; action: string }[] }).secrets;

    expect(code).toBe(0);
    expect(rows.find((r) => r.name === 'ADMIN_TOKEN')).toMatchObject({ action: 'kept' });
    expect(await currentVersionId('admin-token')).toBe(rotatedId);
    expect(await versionCounts()).toEqual(before);
    expect(c.stderr()).toContain('ADMIN_TOKEN was rotated since setup wrote it');
    expect(c.stderr()).toContain('--overwrite ADMIN_TOKEN');
    expect(c.stdout() + c.stderr()).not.toMatch(/canary-setup-|[A-Za-z0-9_-]{60,}/);
  });

  it('keeps a rotation that finishes between its look and its write, and leaves no label of its own after a write', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-9z8y7x6w5v4u3t2s1r0q`);
    await run(['setup', '--from-env', 'prod.env', '--yes'], c.deps);
    // An operator changes the token in the file while another rotates it: the rotation lands right before setup's write.
    await writeFile(join(c.cwd, 'prod.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-changed-1q2w3e4r5t6y7u8i`);
    const rotator = await cliDeps(lsm);
    let handed = '';
    const racing = await cliDeps(lsm, {
      cwd: c.cwd,
      secretsManager: (o) => {
        const client = c.deps.secretsManager(o);
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const input = args.input as { SecretId?: string };
            if (context.commandName === 'PutSecretValueCommand' && input.SecretId === 'whatsapp-saas/mvp/admin-token' && handed === '') {
              expect(await run(['rotate', 'admin-token', '--yes', '--force', '--print'], rotator.deps)).toBe(0);
              handed = rotator.stdout().split('\n')[0]!;
            }
            return next(args);
          },
          { step: 'initialize', name: 'rotationBeforeTheWrite' },
        );
        return client;
      },
    });
    c.clear();

    const code = await run(['setup', '--from-env', 'prod.env', '--yes', '--json'], racing.deps);
    const rows = (JSON.parse(racing.stdout()) as { secrets: { name: string; action: string; reason?: string }[] }).secrets;

    expect(code).toBe(0);
    expect(rows.find((r) => r.name === 'ADMIN_TOKEN')).toMatchObject({ action: 'kept', reason: expect.stringContaining('while setup ran') });
    const current = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }));
    expect(handed).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(current.SecretString).toBe(handed);
    expect(racing.stdout() + racing.stderr()).not.toMatch(/canary-setup-|[A-Za-z0-9_-]{60,}/);

    // Without a rotation in between, the same write goes through, and its own label is gone after.
    await writeFile(join(c.cwd, 'prod.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-third-9o8i7u6y5t4r3e2w`);
    const versions = () => localClient(lsm).send(new ListSecretVersionIdsCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }));
    const rotatedId = current.VersionId;
    const written = await run(['setup', '--from-env', 'prod.env', '--yes', '--overwrite', 'ADMIN_TOKEN', '--force'], c.deps);
    expect(written).toBe(0);
    const after = (await versions()).Versions ?? [];
    expect(after.flatMap((v) => v.VersionStages ?? [])).not.toContain('SETUP_WRITE');
    expect(after.find((v) => v.VersionStages?.includes('AWSPREVIOUS'))?.VersionId).toBe(rotatedId);
    expect((await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }))).SecretString).toBe('canary-setup-admin-third-9o8i7u6y5t4r3e2w');
  });

  it('overwrites a rotated secret with --overwrite NAME, after the cooldown, with a rotation-log line', async () => {
    const t0 = Date.now();
    let now = t0;
    const c = await cliDeps(lsm, { now: () => now });
    await writeFile(join(c.cwd, 'prod.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-9z8y7x6w5v4u3t2s1r0q`);
    await run(['setup', '--from-env', 'prod.env', '--yes'], c.deps);
    await run(['rotate', 'admin-token', '--yes'], c.deps);
    const rotatedId = await currentVersionId('admin-token');
    c.clear();

    const early = await run(['setup', '--from-env', 'prod.env', '--yes', '--overwrite', 'ADMIN_TOKEN'], c.deps);
    expect(early).toBe(1);
    expect(c.stderr()).toContain('less than 10 minutes ago');
    expect(await currentVersionId('admin-token')).toBe(rotatedId);

    now = t0 + 11 * 60_000;
    c.clear();
    const code = await run(['setup', '--from-env', 'prod.env', '--yes', '--json', '--overwrite', 'ADMIN_TOKEN'], c.deps);
    const rows = (JSON.parse(c.stdout()) as { secrets: { name: string; action: string }[] }).secrets;

    expect(code).toBe(0);
    expect(rows.find((r) => r.name === 'ADMIN_TOKEN')).toMatchObject({ action: 'updated' });
    const stored = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/admin-token' }));
    expect(stored.SecretString).toBe('canary-setup-admin-9z8y7x6w5v4u3t2s1r0q');
    const log = (await readFile(join(c.cwd, 'admin-token-rotation.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.at(-1)).toMatchObject({ action: 'overwrite', secretId: 'whatsapp-saas/mvp/admin-token', fromVersionId: rotatedId, toVersionId: stored.VersionId });
    expect(c.stdout() + c.stderr()).not.toMatch(/canary-setup-|[A-Za-z0-9_-]{60,}/);
  });

  it('refuses --overwrite with a name outside the catalog', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);
    expect(await run(['setup', '--from-env', 'prod.env', '--yes', '--overwrite', 'NOT_A_SECRET'], c.deps)).toBe(2);
    expect(lsm.counts().CreateSecret ?? 0).toBe(0);
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

describe('secrets setup in a clone of the repository', () => {
  it('leaves the working tree clean: the policies for the caller account go to a git-ignored folder', async () => {
    const c = await cliDeps(lsm);
    const git = (...args: string[]) => exec('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: c.cwd });
    await git('init', '-q');
    await cp(resolve('.gitignore'), join(c.cwd, '.gitignore'));
    await cp(resolve('iam-policies'), join(c.cwd, 'iam-policies'), { recursive: true });
    await writeFile(join(c.cwd, '.env'), ENV);
    await git('add', '-A');
    await git('commit', '-q', '-m', 'clone');
    const committed = await readFile(join(c.cwd, 'iam-policies/secrets-read-only-policy.json'), 'utf8');

    const code = await run(['setup', '--from-env', '.env', '--yes'], c.deps);

    expect(code).toBe(0);
    expect((await git('status', '--porcelain', '--untracked-files=all')).stdout).toBe('');
    expect(await readFile(join(c.cwd, 'iam-policies/secrets-read-only-policy.json'), 'utf8')).toBe(committed);
    expect(committed).toContain(':123456789012:');
    expect(await readFile(join(c.cwd, '.generated/iam-policies/secrets-read-only-policy.json'), 'utf8')).toContain(':000000000000:');
  });

  it('says the tokens come from the file when --from-env gives them, and generated only for those it does not', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'both.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-7h8j9k0l1m2n3p4q5r6s\nMETA_VERIFY_TOKEN=canary-setup-verify-2b3c4d5e6f7g8h9j0k`);

    expect(await run(['setup', '--from-env', 'both.env', '--yes'], c.deps)).toBe(0);
    expect(c.stderr()).toContain("this creates the catalog's secrets (tokens from both.env).");
    expect(c.stderr()).not.toMatch(/tokens generated|\(\d+ generated\)/);

    await lsm.close();
    lsm = await startLocalSecretsManager({ port: 0 });
    const d = await cliDeps(lsm);
    await writeFile(join(d.cwd, 'one.env'), `${ENV}\nADMIN_TOKEN=canary-setup-admin-7h8j9k0l1m2n3p4q5r6s`);
    expect(await run(['setup', '--from-env', 'one.env', '--yes'], d.deps)).toBe(0);
    expect(d.stderr()).toContain("this creates the catalog's secrets (ADMIN_TOKEN from one.env; META_VERIFY_TOKEN generated).");
    expect(c.stdout() + c.stderr() + d.stdout() + d.stderr()).not.toContain('canary-setup-');
  });

  it('refuses to store the placeholders of .env.example in real AWS, and stores them in the local endpoint', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'fresh.env'), ENV.replace(/^META_APP_SECRET=.*$/m, `META_APP_SECRET=${PLACEHOLDERS.META_APP_SECRET}`).replace(/^OPENAI_API_KEY=.*$/m, `OPENAI_API_KEY=${PLACEHOLDERS.OPENAI_API_KEY}`));

    expect(await run(['setup', '--from-env', 'fresh.env', '--yes'], c.deps)).toBe(2);
    expect(c.stderr()).toContain('META_APP_SECRET, OPENAI_API_KEY in fresh.env are placeholders of .env.example: put the real values there first');
    expect(await versionCounts().catch(() => 'nothing stored')).toBe('nothing stored');

    c.clear();
    expect(await run(['setup', '--from-env', 'fresh.env', '--yes', '--endpoint-url', 'http://127.0.0.1:4566'], c.deps)).toBe(0);
    expect(c.stdout() + c.stderr()).not.toContain(PLACEHOLDERS.META_APP_SECRET!);
  });

  it('writes the policies where --policies-dir says', async () => {
    const c = await cliDeps(lsm);
    await writeFile(join(c.cwd, 'prod.env'), ENV);

    await run(['setup', '--from-env', 'prod.env', '--yes', '--policies-dir', 'out/policies'], c.deps);

    expect(JSON.parse(await readFile(join(c.cwd, 'out/policies/secrets-cicd-policy.json'), 'utf8'))).toHaveProperty('Statement');
    expect(c.stdout()).toContain(`IAM policies written to ${join(c.cwd, 'out/policies')}`);
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

/**
 * Answers hidden prompts the way @inquirer/prompts does: each answer goes through `validate`, and
 * a refused one is shown its reason and asked again with the next scripted answer.
 */
function scriptedPrompts(answers: Record<string, string[]>) {
  const asked: { name: string; question: string }[] = [];
  const refusals: string[] = [];
  const promptSecret = async (question: string, validate: (answer: string) => true | string) => {
    const name = question.split(' ')[0]!;
    asked.push({ name, question });
    for (;;) {
      const answer = answers[name]?.shift() ?? '';
      const verdict = validate(answer);
      if (verdict === true) return answer;
      refusals.push(verdict);
    }
  };
  return { promptSecret, asked, refusals };
}

const FIRST_RUN: Record<string, string[]> = {
  META_APP_SECRET: ['canary-setup-prompt-7g8h9i0j1k2l3m4n'],
  DATABASE_URL: ['postgresql://h/db'],
  REDIS_URL: ['redis://h:6379'],
  OPENAI_API_KEY: ['k'],
  OPENAI_MAX_TOKENS: ['2000'],
};

describe('secrets setup, interactively', () => {
  it('asks for each value with a hidden prompt, keeps the stored one on an empty answer, and never generates over a stored token', async () => {
    const prompts = scriptedPrompts(structuredClone(FIRST_RUN));
    const c = await cliDeps(lsm, { promptSecret: prompts.promptSecret });
    expect(await run(['setup'], c.deps)).toBe(0);
    expect(prompts.asked.map((a) => a.name)).not.toContain('ADMIN_TOKEN');
    expect(prompts.asked.map((a) => a.name)).toEqual(expect.arrayContaining(['META_APP_SECRET', 'DATABASE_URL', 'OPENAI_API_KEY']));
    const stored = await localClient(lsm).send(new GetSecretValueCommand({ SecretId: 'whatsapp-saas/mvp/meta-app-secret' }));
    expect(stored.SecretString).toBe('canary-setup-prompt-7g8h9i0j1k2l3m4n');

    const before = await versionCounts();
    const again = scriptedPrompts({});
    const c2 = await cliDeps(lsm, { promptSecret: again.promptSecret });
    expect(await run(['setup', '--json'], c2.deps)).toBe(0);
    expect(await versionCounts()).toEqual(before);
    expect(c.stdout() + c.stderr() + c2.stdout() + c2.stderr()).not.toContain('canary-setup-');
  });

  it('words the first run for an empty store: required values, no stored value to keep', async () => {
    const prompts = scriptedPrompts(structuredClone(FIRST_RUN));
    let question = '';
    const c = await cliDeps(lsm, { promptSecret: prompts.promptSecret, confirm: async (q) => ((question = q), true) });

    await run(['setup'], c.deps);

    expect(c.stderr()).toContain('Nothing is stored under whatsapp-saas/mvp/ yet');
    expect(question).toBe('Create the secrets?');
    const byName = Object.fromEntries(prompts.asked.map((a) => [a.name, a.question]));
    expect(byName.META_APP_SECRET).toBe('META_APP_SECRET (Meta app secret for HMAC validation; required)');
    expect(byName.OPENAI_MODEL).toBe('OPENAI_MODEL (OpenAI model to use; Enter for the default, gpt-4)');
    expect(byName.WHATSAPP_ACCESS_TOKEN).toBe('WHATSAPP_ACCESS_TOKEN (Default WhatsApp access token; optional, Enter skips)');
    expect(prompts.asked.map((a) => a.question).join('\n')).not.toContain('stored value');
  });

  it('offers to keep stored values once they exist', async () => {
    await run(['setup'], (await cliDeps(lsm, { promptSecret: scriptedPrompts(structuredClone(FIRST_RUN)).promptSecret })).deps);
    const prompts = scriptedPrompts({});
    let question = '';
    const c = await cliDeps(lsm, { promptSecret: prompts.promptSecret, confirm: async (q) => ((question = q), true) });

    expect(await run(['setup'], c.deps)).toBe(0);

    expect(question).toBe('Continue with setup?');
    expect(prompts.asked.find((a) => a.name === 'DATABASE_URL')?.question).toBe('DATABASE_URL (PostgreSQL connection string; Enter keeps the stored value)');
  });

  it('checks each value as it is typed and asks again, naming the rule once and never the value', async () => {
    const prompts = scriptedPrompts({
      ...structuredClone(FIRST_RUN),
      DATABASE_URL: ['mysql://canary-setup-bad-1x2y@h/db', 'not a url canary-setup-bad-3z4w', 'postgresql://h/db'],
      META_APP_SECRET: ['', ' padded-canary-setup-5v6u ', 'canary-setup-app-ok-0123456789abcdefgh'],
      OPENAI_MAX_TOKENS: ['many', '2000'],
    });
    const c = await cliDeps(lsm, { promptSecret: prompts.promptSecret });

    expect(await run(['setup'], c.deps)).toBe(0);

    expect(prompts.refusals).toEqual([
      'META_APP_SECRET is required and nothing is stored yet: type a value (Ctrl-C stops, nothing is written)',
      'has leading or trailing whitespace (expected string of at least 32 characters, 5 or more of them different)',
      'wrong scheme (expected postgres: or postgresql:)',
      'not a valid URL or JSON object (expected a postgres URL or RDS secret JSON)',
      'not an integer (expected integer in [1, 9007199254740991])',
    ]);
    expect(prompts.refusals.join('\n') + c.stdout() + c.stderr()).not.toContain('canary-setup-');
  });

  it('prints a line as each secret is done, aligned, then one summary line', async () => {
    const c = await cliDeps(lsm, { promptSecret: scriptedPrompts(structuredClone(FIRST_RUN)).promptSecret });

    await run(['setup'], c.deps);

    const lines = c.stdout().trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^ADMIN_TOKEN\s+created \(generated\)\s+whatsapp-saas\/mvp\/admin-token$/);
    const idColumn = new Set(lines.slice(0, 11).map((l) => l.indexOf('whatsapp-saas/')));
    expect(idColumn.size).toBe(1);
    expect(lines[11]).toBe(`Setup done: 7 created (2 generated), 0 updated, 0 unchanged, 4 optional skipped. IAM policies written to ${join(c.cwd, '.generated/iam-policies')}`);
  });

  it('checks credentials before asking anything, and says in one line what to set', async () => {
    let asked = false;
    const c = await cliDeps(lsm, {
      callerArn: async () => {
        throw new CliError('CREDENTIALS', NO_CREDENTIALS);
      },
      confirm: async () => ((asked = true), true),
      promptSecret: async () => ((asked = true), ''),
    });

    expect(await run(['setup'], c.deps)).toBe(1);

    expect(asked).toBe(false);
    expect(c.stderr()).toBe(`error: ${NO_CREDENTIALS}\n`);
  });

  it('fails on an unreachable endpoint before asking anything', async () => {
    let asked = false;
    await lsm.close();
    const c = await cliDeps(lsm, { confirm: async () => ((asked = true), true) });

    expect(await run(['setup'], c.deps)).toBe(1);

    expect(asked).toBe(false);
    expect(c.stderr()).toMatch(/^error: Cannot reach Secrets Manager .*--endpoint-url\n$/);
    lsm = await startLocalSecretsManager({ port: 0 });
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
