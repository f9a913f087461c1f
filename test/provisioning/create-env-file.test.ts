import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createEnvSource, createSecretsEngine } from '../../src/engine/index.js';
import { bootstrapValue, createEnvFile, LOCAL_DATABASE_URL, LOCAL_REDIS_URL, PLACEHOLDERS } from '../../src/provisioning/create-env-file.js';

const EXAMPLE = join(import.meta.dirname, '../../.env.example');

describe('createEnvFile', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'svc-envfile-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates .env with mode 0600 from the repository template', async () => {
    const path = join(dir, '.env');

    const result = await createEnvFile({ path, examplePath: EXAMPLE });

    expect(result).toEqual({ created: true, path });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('generates ADMIN_TOKEN and META_VERIFY_TOKEN from 48 random bytes each, URL-safe', async () => {
    const path = join(dir, '.env');

    await createEnvFile({ path, examplePath: EXAMPLE });

    const values = parse(await readFile(path));
    for (const name of ['ADMIN_TOKEN', 'META_VERIFY_TOKEN']) {
      expect(values[name]).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(Buffer.from(values[name]!, 'base64url')).toHaveLength(48);
    }
    expect(values.ADMIN_TOKEN).not.toBe(values.META_VERIFY_TOKEN);
  });

  it('uses the injected randomness', async () => {
    const path = join(dir, '.env');

    await createEnvFile({ path, examplePath: EXAMPLE, random: (n) => Buffer.alloc(n, 7) });

    expect(parse(await readFile(path)).ADMIN_TOKEN).toBe(Buffer.alloc(48, 7).toString('base64url'));
  });

  it('writes local URLs and marked placeholders that let the service start', async () => {
    const path = join(dir, '.env');

    await createEnvFile({ path, examplePath: EXAMPLE });

    const text = await readFile(path, 'utf8');
    const values = parse(text);
    expect(values.DATABASE_URL).toBe(LOCAL_DATABASE_URL);
    expect(values.REDIS_URL).toBe(LOCAL_REDIS_URL);
    expect(values.META_APP_SECRET).toBe(PLACEHOLDERS.META_APP_SECRET);
    expect(values.OPENAI_API_KEY).toBe(PLACEHOLDERS.OPENAI_API_KEY);
    expect(text.match(/PLACEHOLDER/g)?.length).toBeGreaterThanOrEqual(2);
    const engine = createSecretsEngine({ catalog: whatsappSaasCatalog(), source: createEnvSource({ env: {}, envFilePath: path }) });
    await expect(engine.initialize()).resolves.toBeUndefined();
    expect(engine.status().requiredSecretsOk).toBe(true);
    engine.close();
  });

  it('never overwrites an existing file', async () => {
    const path = join(dir, '.env');
    await writeFile(path, 'ADMIN_TOKEN=mine\n', { mode: 0o600 });

    const result = await createEnvFile({ path, examplePath: EXAMPLE });

    expect(result.created).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('ADMIN_TOKEN=mine\n');
  });

  it('creates exactly one file when called twice at once', async () => {
    const path = join(dir, '.env');

    const results = await Promise.all([createEnvFile({ path, examplePath: EXAMPLE }), createEnvFile({ path, examplePath: EXAMPLE })]);

    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
  });

  it('renders every catalog secret when there is no template', async () => {
    const path = join(dir, '.env');

    await createEnvFile({ path, examplePath: join(dir, 'missing.example') });

    const values = parse(await readFile(path));
    for (const { name } of whatsappSaasCatalog().entries) expect(Object.keys(values)).toContain(name);
    expect(values.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(values.DATABASE_URL).toBe(LOCAL_DATABASE_URL);
  });

  it('keeps values the template sets and fills the ones it leaves empty', async () => {
    const path = join(dir, '.env');
    const template = join(dir, 'tpl');
    await writeFile(template, 'export DATABASE_URL=postgresql://me@db:5432/x\nREDIS_URL=\nADMIN_TOKEN=from-template\n# comment\n');

    await createEnvFile({ path, examplePath: template });

    const values = parse(await readFile(path));
    expect(values.DATABASE_URL).toBe('postgresql://me@db:5432/x');
    expect(values.REDIS_URL).toBe(LOCAL_REDIS_URL);
    expect(values.ADMIN_TOKEN).not.toBe('from-template');
    expect(await readFile(path, 'utf8')).toContain('# comment');
  });
});

describe('bootstrapValue', () => {
  it('is the URL createEnvFile writes: the template\'s own, else the local default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svc-bootstrap-'));
    const own = join(dir, 'own.example');
    await writeFile(own, 'DATABASE_URL=postgresql://postgres@127.0.0.1:5999/app\nREDIS_URL=\n');
    const written = join(dir, 'own.env');
    await createEnvFile({ path: written, examplePath: own });
    const values = parse(await readFile(written));

    expect(await bootstrapValue(own, 'DATABASE_URL')).toBe('postgresql://postgres@127.0.0.1:5999/app');
    expect(await bootstrapValue(own, 'DATABASE_URL')).toBe(values.DATABASE_URL);
    expect(await bootstrapValue(own, 'REDIS_URL')).toBe(LOCAL_REDIS_URL);
    expect(await bootstrapValue(own, 'REDIS_URL')).toBe(values.REDIS_URL);
    expect(await bootstrapValue(join(dir, 'no-such.example'), 'DATABASE_URL')).toBe(LOCAL_DATABASE_URL);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('.env.example', () => {
  it('lists every catalog secret with its description', async () => {
    const text = await readFile(EXAMPLE, 'utf8');

    for (const { name, spec } of whatsappSaasCatalog().entries) {
      expect(text).toMatch(new RegExp(`^${name}=`, 'm'));
      expect(text).toContain(spec.description);
    }
  });

  it('ships no generated secret', async () => {
    const values = parse(await readFile(EXAMPLE));

    expect(values.ADMIN_TOKEN).toBe('');
    expect(values.META_VERIFY_TOKEN).toBe('');
  });
});
