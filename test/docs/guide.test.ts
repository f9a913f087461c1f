import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GetSecretValueCommand, ListSecretsCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { localClient, useLocalAws } from '../support/local-aws.js';
import { awsSyntaxProblems, findAwsCli } from './support/aws-syntax.js';
import { checkCommand, type CliDefinition, type ProjectFacts, type Strictness } from './support/command-check.js';
import { guideParts, type GuideBlock } from './support/guide-blocks.js';
import { createGuideWorkspace, runBlock, writtenFiles, type GuideWorkspace } from './support/guide-workspace.js';
import { namedThingProblems } from './support/named-things.js';
import { realCli, realProjectFacts } from './support/project-facts.js';
import { shellCommands } from './support/shell-commands.js';

const REPO = resolve(import.meta.dirname, '../..');
const GUIDE_PATH = 'docs/SECRETS_MANAGEMENT.md';
const guide = readFileSync(join(REPO, GUIDE_PATH), 'utf8');
const parts = guideParts(guide);
const shellBlocks = parts.blocks.filter((b) => b.lang === 'bash');
const awsCli = await findAwsCli();

/** Inline spans in the prose that are commands as typed (not synopses with `[`, `|`, `<` or `...`). */
const inlineCommands = parts.inline.filter((s) => /^(npm run |secrets |\.?\/?scripts\/)/.test(s.value) && !/[[|<]|\.\.\./.test(s.value));

/** Every problem the guide's commands have against a project: blocks as typed, prose spans loosely. */
function commandProblems(facts: ProjectFacts): string[] {
  const check = (code: string, line: number, strictness: Strictness) =>
    shellCommands(code).flatMap((c) => checkCommand(c, facts, strictness).map((p) => `${GUIDE_PATH}:${line + (strictness === 'block' ? c.lineInBlock : 0)}: ${p}`));
  return [...shellBlocks.flatMap((b) => check(b.code, b.line, 'block')), ...inlineCommands.flatMap((s) => check(s.value, s.line, 'inline'))];
}

function sourceText(): { all: string; routes: string } {
  const read = (path: string): string[] =>
    statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => read(join(path, name))) : [readFileSync(path, 'utf8')];
  const all = ['src', 'scripts', 'deploy', '.env.example', 'Dockerfile', 'docker-compose.yml'].flatMap((p) => read(join(REPO, p))).join('\n');
  return { all, routes: read(join(REPO, 'src/service/routes')).join('\n') };
}

describe('docs/SECRETS_MANAGEMENT.md', () => {
  it('is linked from the README', () => {
    expect(readFileSync(join(REPO, 'README.md'), 'utf8')).toContain(`](${GUIDE_PATH})`);
  });

  it('links only to headings and files that exist', () => {
    const problems: string[] = [];
    for (const { value, line } of parts.links.filter((l) => !/^(https?:|mailto:)/.test(l.value))) {
      const [file, anchor] = value.split('#') as [string, string | undefined];
      const path = resolve(REPO, 'docs', file);
      if (file !== '' && (relative(REPO, path).startsWith('..') || !existsSync(path))) problems.push(`line ${line}: ${value}: no such file in the repository`);
      else if (anchor !== undefined && !(file === '' ? parts.anchors : guideParts(readFileSync(path, 'utf8')).anchors).has(anchor)) problems.push(`line ${line}: ${value}: no such heading`);
    }
    expect(problems).toEqual([]);
    expect(parts.links.length).toBeGreaterThan(20);
  });

  it('gives every fenced block a language and every test marker a known form', () => {
    expect(parts.markerProblems).toEqual([]);
    expect(parts.blocks.filter((b) => !['bash', 'text', 'json'].includes(b.lang ?? '')).map((b) => `line ${b.line}: ${b.lang ?? 'no language'}`)).toEqual([]);
    expect(shellBlocks.length).toBeGreaterThan(30);
  });

  it('names only npm scripts, secrets commands and options, and files that exist', () => {
    expect(commandProblems(realProjectFacts(REPO))).toEqual([]);
  });

  it('fails that check when a documented command, option, secret, script or file goes away', () => {
    const real = realCli();
    const reduced: CliDefinition = {
      ...real,
      commands: real.commands.filter((c) => c !== 'alarms'),
      help: (command) => (command === 'rollback' ? real.help(command).replaceAll('--graceful', '') : real.help(command)),
      parse: (argv) => {
        if (argv.includes('--from-env')) throw new Error('Unknown option --from-env');
        return real.parse(argv);
      },
      targets: { ...real.targets, rotate: real.targets.rotate!.filter((t) => t !== 'meta-verify-token') },
      strategies: (target) => real.strategies(target).filter((s) => s !== 'graceful'),
    };
    const facts = realProjectFacts(REPO, reduced);
    const scripts = Object.fromEntries(Object.entries(facts.scripts).filter(([name]) => name !== 'dev:aws'));
    const problems = commandProblems({ ...facts, scripts, exists: (path) => path !== 'scripts/rotate-admin-token.sh' && facts.exists(path) }).join('\n');

    expect(problems).toMatch(/no command "alarms"/);
    expect(problems).toMatch(/"rollback" has no --graceful/);
    expect(problems).toMatch(/refuses it \(Unknown option --from-env\)/);
    expect(problems).toMatch(/"rotate" takes admin-token or database-password or redis-password/);
    expect(problems).toMatch(/has no --strategy graceful/);
    expect(problems).toMatch(/npm run dev:aws: no such script/);
    expect(problems).toMatch(/scripts\/rotate-admin-token\.sh: no such file/);
  });

  it('names only log events, metrics, settings and routes that exist in the code', () => {
    expect(namedThingProblems(parts.inline, sourceText())).toEqual([]);
    expect(namedThingProblems([{ value: 'secrets.refresh_vanished', line: 1 }, { value: 'SECRETS_TTL_SECONDS', line: 2 }, { value: 'GET /admin/nothing', line: 3 }, { value: 'secrets_nothing_total{reason}', line: 4 }], sourceText())).toHaveLength(4);
  });

  it.skipIf(awsCli === undefined)(
    'has aws commands that the AWS CLI itself parses',
    async () => {
      const lines = shellBlocks.flatMap((b) =>
        shellCommands(b.code)
          .filter((c) => c.argv[0] === 'aws')
          .map((c) => ({ text: c.line, where: `${GUIDE_PATH}:${b.line + c.lineInBlock}` })),
      );
      const unique = [...new Map(lines.map((l) => [l.text, l])).values()];
      expect(unique.length).toBeGreaterThan(20);

      expect(await awsSyntaxProblems(unique, awsCli!, REPO)).toEqual([]);
      // The check can fail: an option the CLI does not have is refused.
      expect(await awsSyntaxProblems([{ text: 'aws secretsmanager get-secret-value --secret-id x --no-such-option', where: 'probe' }], awsCli!, REPO)).toHaveLength(1);
    },
    180_000,
  );

  describe('followed top to bottom against a local endpoint', () => {
    const STEP_MS = 15 * 60_000;
    const planted = {
      META_APP_SECRET: `guide-canary-app-${randomBytes(12).toString('hex')}`,
      OPENAI_API_KEY: `sk-guide-canary-${randomBytes(12).toString('hex')}`,
      DATABASE_URL: `postgresql://app:guide-canary-db-${randomBytes(8).toString('hex')}@127.0.0.1:5432/whatsapp_saas`,
      REDIS_URL: `redis://app:guide-canary-redis-${randomBytes(8).toString('hex')}@127.0.0.1:6379`,
      WHATSAPP_ACCESS_TOKEN: `guide-canary-wa-${randomBytes(12).toString('hex')}`,
    };
    const runnable = shellBlocks.filter((b): b is GuideBlock & { marker: { kind: 'run'; exit: number } } => b.marker.kind === 'run');
    let ws: GuideWorkspace;
    // The guide's steps happen at different times: the endpoint's clock runs behind, catching up a
    // step per block, so a version made in one block is older than the CLI's 10-minute rotation
    // guard by the next one, as it would be for an operator following the guide over a day.
    let behindMs = 0;

    const lsm = useLocalAws({ clock: { now: () => Date.now() - behindMs } });
    beforeAll(async () => {
      ws = await createGuideWorkspace(REPO, { planted, endpointUrl: lsm.url });
    });
    afterAll(async () => {
      await ws?.close();
    });

    it('runs every local block with the exit code it is marked with, printing no secret value', async () => {
      const commands = runnable.flatMap((b) => shellCommands(b.code).map((c) => c.argv.join(' '))).join('\n');
      for (const expected of ['secrets -- init', 'secrets -- check', 'secrets -- setup --from-env', 'secrets -- status', 'secrets -- rotate admin-token', 'secrets -- verify', 'secrets -- rollback', 'secrets -- iam', 'secrets -- alarms', 'scripts/rotate-admin-token.sh']) {
        expect(commands, `the run covers ${expected}`).toContain(expected);
      }

      const outputs: { line: number; text: string }[] = [];
      for (const [i, block] of runnable.entries()) {
        const code = block.code.replaceAll('127.0.0.1:4566', new URL(lsm.url).host).replaceAll('localhost:4566', new URL(lsm.url).host);
        const remote = [...code.matchAll(/\bhttps?:\/\/([^\s/:'"]+)/g)].map((m) => m[1]!).filter((h) => !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(h));
        expect(remote, `${GUIDE_PATH}:${block.line} reaches ${remote.join(', ')}: mark it skip=service or skip=aws`).toEqual([]);
        behindMs = (runnable.length - i) * STEP_MS;

        const result = await runBlock(ws, code, 120_000);

        outputs.push({ line: block.line, text: `${result.stdout}\n${result.stderr}` });
        expect(result.exitCode, `${GUIDE_PATH}:${block.line} exited ${result.exitCode}:\n${block.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(block.marker.exit);
      }

      const values = [...Object.values(planted), ...(await storedValues(lsm))];
      expect(values.length).toBeGreaterThan(Object.keys(planted).length + 6);
      for (const { line, text } of outputs) {
        for (const value of values) expect(text.includes(value), `output of the block at ${GUIDE_PATH}:${line} shows a secret value`).toBe(false);
      }
      const tokenFile = /\/\.(admin-token|meta-verify-token)-new-[^/]+\.txt$/;
      for (const file of (await writtenFiles(ws)).filter((f) => !/\/\.env(\.example)?$/.test(f.path) && !tokenFile.test(f.path))) {
        for (const value of values) expect(file.text.includes(value), `${file.path} holds a secret value`).toBe(false);
      }
    }, 900_000);
  });
});

/** Every value of every version the endpoint holds: generated tokens, rotated ones, the planted values. */
async function storedValues(lsm: LocalSecretsManager): Promise<string[]> {
  const client = localClient(lsm);
  const values: string[] = [];
  for (const secret of (await client.send(new ListSecretsCommand({}))).SecretList ?? []) {
    for (const version of (await client.send(new ListSecretVersionIdsCommand({ SecretId: secret.Name! }))).Versions ?? []) {
      const value = (await client.send(new GetSecretValueCommand({ SecretId: secret.Name!, VersionId: version.VersionId! }))).SecretString;
      // Short defaults (gpt-4, 1000, 0.7) are settings, not secrets, and appear in tables.
      if (value !== undefined && value.length >= 16) values.push(value);
    }
  }
  return values;
}
