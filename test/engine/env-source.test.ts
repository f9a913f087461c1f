import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { createEnvSource, MAX_ENV_FILE_BYTES } from '../../src/engine/env-source.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { text } from '../../src/engine/value-kinds.js';
import { captureLogger } from '../support/capture-logger.js';

const catalog = defineCatalog({
  ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true },
  QUOTED: { kind: text(), required: false, description: 'quoted' },
  MULTILINE: { kind: text(), required: false, description: 'multiline' },
  EXPORTED: { kind: text(), required: false, description: 'export prefix' },
  HASHED: { kind: text(), required: false, description: 'value with a hash' },
});

const signal = new AbortController().signal;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'env-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function envFile(content: string | Buffer, mode = 0o600): Promise<string> {
  const path = join(dir, '.env');
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

describe('env source', () => {
  it("parses .env by dotenv's rules: BOM, CRLF, export, quotes, multiline and comments", async () => {
    const path = await envFile(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(
          'ADMIN_TOKEN=tok-1\r\nexport EXPORTED=yes\r\n# a comment\nQUOTED="a b # not a comment"\nMULTILINE="line1\nline2"\nHASHED=value # trailing comment\n',
        ),
      ]),
    );
    const source = createEnvSource({ env: {}, envFilePath: path });

    const { records, failures } = await source.load(catalog.entries, signal);

    expect(Object.fromEntries(records.map((r) => [r.name, r.raw]))).toEqual({
      ADMIN_TOKEN: 'tok-1',
      EXPORTED: 'yes',
      QUOTED: 'a b # not a comment',
      MULTILINE: 'line1\nline2',
      HASHED: 'value',
    });
    expect(failures).toEqual([]);
  });

  it('lets the real environment win over the file and never mutates it', async () => {
    const path = await envFile('ADMIN_TOKEN=from-file\nQUOTED=file-only\n');
    const env = Object.freeze({ ADMIN_TOKEN: 'from-env' });
    const source = createEnvSource({ env, envFilePath: path });

    const { records } = await source.load(catalog.entries, signal);

    expect(records.find((r) => r.name === 'ADMIN_TOKEN')?.raw).toBe('from-env');
    expect(records.find((r) => r.name === 'QUOTED')?.raw).toBe('file-only');
    expect(env).toEqual({ ADMIN_TOKEN: 'from-env' });
  });

  it('treats an empty value as not set and a missing file as empty', async () => {
    const source = createEnvSource({ env: { ADMIN_TOKEN: '' }, envFilePath: join(dir, 'absent.env') });
    const { records, failures } = await source.load(catalog.entries, signal);
    expect(records).toEqual([]);
    expect(failures.map((f) => [f.name, f.code])).toContainEqual(['ADMIN_TOKEN', 'NotSet']);
  });

  it('offers <NAME>_PREVIOUS as the previous value of a secret that accepts one', async () => {
    const source = createEnvSource({ env: { ADMIN_TOKEN: 'new', ADMIN_TOKEN_PREVIOUS: 'old', QUOTED_PREVIOUS: 'x', QUOTED: 'q' }, envFilePath: null });
    const engine = createSecretsEngine({ catalog, source, graceMs: 60_000 });
    await engine.initialize();
    expect(engine.accepted('ADMIN_TOKEN')).toEqual(['new', 'old']);
    expect(engine.accepted('QUOTED')).toEqual(['q']);
    engine.close();
  });

  it('warns once when .env is readable by group or others, naming the path only', async () => {
    const path = await envFile('ADMIN_TOKEN=canary-loose-file-4410\n', 0o644);
    const logger = captureLogger();
    const source = createEnvSource({ env: {}, envFilePath: path, logger });

    await source.load(catalog.entries, signal);
    await source.load(catalog.entries, signal);

    const warnings = logger.lines.filter((l) => l.obj.event === 'secrets.env_file_permissions');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.obj).toMatchObject({ path, mode: '644' });
    expect(logger.text()).not.toContain('canary-loose-file-4410');
  });

  it('refuses an oversized .env file without reading it', async () => {
    const path = await envFile(Buffer.alloc(MAX_ENV_FILE_BYTES + 1, 'A'));
    const source = createEnvSource({ env: {}, envFilePath: path });
    await expect(source.load(catalog.entries, signal)).rejects.toMatchObject({ sourceCode: 'EnvFileTooLarge' });
  });

  it('picks up an edited .env on refresh', async () => {
    const path = await envFile('ADMIN_TOKEN=first\n');
    const engine = createSecretsEngine({ catalog, source: createEnvSource({ env: {}, envFilePath: path }) });
    await engine.initialize();
    await envFile('ADMIN_TOKEN=second\n');

    const outcome = await engine.refresh();

    expect(outcome).toMatchObject({ ok: true, changed: [{ name: 'ADMIN_TOKEN' }] });
    expect(engine.get('ADMIN_TOKEN')).toBe('second');
    engine.close();
  });
});
