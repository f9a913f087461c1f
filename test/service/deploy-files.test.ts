import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, redisUrl } from '../../src/engine/index.js';
import { freePort } from './support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { SHARED_REDIS_URL } from './support/redis-server.js';
import { REPO, spawnService } from './support/service-process.js';
import { testSecrets } from './support/service-harness.js';

const run = promisify(execFile);

interface ComposeService {
  build?: string;
  image?: string;
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: unknown;
}

/** No Docker engine runs here: these check the files as far as reading them allows. */
describe('docker-compose.yml', () => {
  let services: Record<string, ComposeService>;

  beforeAll(async () => {
    services = (parseYaml(await readFile(join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> }).services;
  });

  it('runs the backend with PostgreSQL and Redis, and the GUIs only under the tools profile', () => {
    expect(Object.keys(services).sort()).toEqual(['adminer', 'backend', 'postgres', 'redis', 'redis-commander']);
    expect(services.backend!.profiles).toBeUndefined();
    expect(services.postgres!.profiles).toBeUndefined();
    expect(services.redis!.profiles).toBeUndefined();
    expect(services.adminer!.profiles).toEqual(['tools']);
    expect(services['redis-commander']!.profiles).toEqual(['tools']);
    expect(services.adminer!.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(services['redis-commander']!.ports).toEqual(['127.0.0.1:8081:8081']);
  });

  it('builds the backend from this Dockerfile, reads .env, and defaults to local secrets', () => {
    const backend = services.backend!;

    expect(backend.build).toBe('.');
    expect(backend.env_file).toBe('.env');
    expect(backend.environment!.USE_AWS_SECRETS).toBe('${USE_AWS_SECRETS:-false}');
    expect(backend.environment!.HOST).toBe('0.0.0.0');
    expect(backend.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(backend.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(services.postgres!.healthcheck).toBeDefined();
    expect(services.redis!.healthcheck).toBeDefined();
  });

  it('gives the backend URLs that pass the catalog validation and name the compose services', () => {
    const env = services.backend!.environment!;

    expect(postgresUrl().parse(env.DATABASE_URL!).ok).toBe(true);
    expect(redisUrl().parse(env.REDIS_URL!).ok).toBe(true);
    expect(new URL(env.DATABASE_URL!).hostname).toBe('postgres');
    expect(new URL(env.DATABASE_URL!).pathname).toBe(`/${(services.postgres!.environment as Record<string, string>).POSTGRES_DB}`);
    expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
  });
});

describe('Dockerfile', () => {
  let text: string;

  beforeAll(async () => {
    text = await readFile(join(REPO, 'Dockerfile'), 'utf8');
  });

  it('builds on node:20-slim in two stages and runs as a non-root user', () => {
    expect(text.match(/^FROM node:20-slim AS \w+$/gm)).toHaveLength(2);
    const lastUser = [...text.matchAll(/^USER (\S+)$/gm)].at(-1)?.[1];
    expect(lastUser).toBeDefined();
    expect(lastUser).not.toBe('root');
    expect(text).toMatch(/^ENV [\s\S]*HOST=0\.0\.0\.0/m);
  });

  it('copies only files that exist', () => {
    const sources = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));

    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(existsSync(join(REPO, s)), s).toBe(true);
  });

  it('keeps secrets out of the build context', async () => {
    const ignore = (await readFile(join(REPO, '.dockerignore'), 'utf8')).split('\n');

    expect(ignore).toContain('.env');
    expect(ignore).toContain('.env.*');
    expect(ignore).toContain('!.env.example');
    expect(ignore).toContain('node_modules');
  });

  it('starts the entry that `npm run build` produces', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const build = JSON.parse(await readFile(join(REPO, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };

    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(text).toContain('CMD ["node", "dist/service/main.js"]');
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

  it('builds with tsc and serves /healthz from node dist/service/main.js, migrations included', async () => {
    await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: REPO });
    for (const f of ['package.json', 'migrations', '.env.example']) await cp(join(REPO, f), join(app, f), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(app, 'node_modules'));
    const envFile = join(app, 'secrets.env');
    await writeFile(envFile, Object.entries(testSecrets(db.url, SHARED_REDIS_URL)).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
    const svc = spawnService({ port: await freePort(), env: { ENV_FILE: envFile }, cwd: app, nodeArgs: ['dist/service/main.js'] });
    try {
      const health = await svc.waitForHealth();

      expect(health).toMatchObject({ status: 'ok', services: { database: { status: 'up' } } });
    } finally {
      expect(await svc.stop()).toBe(0);
    }
  }, 90_000);
});
