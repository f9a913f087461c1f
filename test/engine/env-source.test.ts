import { mkdtemp, rm, writeFile, chmod, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/engine/catalog.js';
import { createEnvSource, MAX_ENV_FILE_BYTES } from '../../src/engine/env-source.js';
import { createSecretsEngine } from '../../src/engine/secrets-engine.js';
import { text, token } from '../../src/engine/value-kinds.js';
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
    const env = { ADMIN_TOKEN: 'new', ADMIN_TOKEN_PREVIOUS: 'old', ADMIN_TOKEN_ROTATED_AT: new Date().toISOString(), QUOTED_PREVIOUS: 'x', QUOTED: 'q' };
    const source = createEnvSource({ env, envFilePath: null });
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

describe('env source: the grace window of <NAME>_PREVIOUS survives a restart', () => {
  const GRACE_MS = 15 * 60_000;
  const MINUTE = 60_000;

  /** A fresh engine over the same file and environment: what a restart sees. */
  async function acceptedAfterStart(env: Record<string, string>, path: string | null, logger = captureLogger()): Promise<readonly string[]> {
    const engine = createSecretsEngine({ catalog, source: createEnvSource({ env, envFilePath: path, logger }), graceMs: GRACE_MS });
    await engine.initialize();
    const accepted = engine.accepted('ADMIN_TOKEN');
    engine.close();
    return accepted;
  }

  async function rotatedFileAgo(ms: number, extra = ''): Promise<string> {
    const path = await envFile(`ADMIN_TOKEN=new-token\nADMIN_TOKEN_PREVIOUS=old-token\n${extra}`);
    const at = new Date(Date.now() - ms);
    await utimes(path, at, at);
    return path;
  }

  it('anchors the window at the file modification time, so a restart after it closed does not reopen it', async () => {
    const recent = await rotatedFileAgo(10 * MINUTE);
    expect(await acceptedAfterStart({}, recent)).toEqual(['new-token', 'old-token']);

    const stale = await rotatedFileAgo(20 * MINUTE);
    expect(await acceptedAfterStart({}, stale)).toEqual(['new-token']);
  });

  it('anchors the window at <NAME>_ROTATED_AT when set, whatever the file time', async () => {
    const old = new Date(Date.now() - 20 * MINUTE).toISOString();
    const recent = new Date(Date.now() - 5 * MINUTE).toISOString();

    expect(await acceptedAfterStart({}, await rotatedFileAgo(0, `ADMIN_TOKEN_ROTATED_AT=${old}\n`))).toEqual(['new-token']);
    expect(await acceptedAfterStart({}, await rotatedFileAgo(60 * MINUTE, `ADMIN_TOKEN_ROTATED_AT=${recent}\n`))).toEqual(['new-token', 'old-token']);
  });

  it('refuses a previous value from the environment that has no <NAME>_ROTATED_AT, and says why', async () => {
    const logger = captureLogger();

    const accepted = await acceptedAfterStart({ ADMIN_TOKEN: 'new-token', ADMIN_TOKEN_PREVIOUS: 'old-token' }, null, logger);

    expect(accepted).toEqual(['new-token']);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.previous_ignored')?.obj).toMatchObject({ name: 'ADMIN_TOKEN', reason: 'no ADMIN_TOKEN_ROTATED_AT' });
  });

  it('accepts a previous value from the environment within the window its <NAME>_ROTATED_AT opened', async () => {
    const rotatedAt = new Date(Date.now() - 5 * MINUTE).toISOString();

    expect(await acceptedAfterStart({ ADMIN_TOKEN: 'new-token', ADMIN_TOKEN_PREVIOUS: 'old-token', ADMIN_TOKEN_ROTATED_AT: rotatedAt }, null)).toEqual(['new-token', 'old-token']);
  });

  it.each([
    ['not a time', 'canary-not-a-time-5521', 'ADMIN_TOKEN_ROTATED_AT is not an ISO 8601 time'],
    ['a time without a zone', '2026-01-01T10:00:00', 'ADMIN_TOKEN_ROTATED_AT is not an ISO 8601 time'],
    ['a time in the future', new Date(Date.now() + 60 * MINUTE).toISOString(), 'ADMIN_TOKEN_ROTATED_AT is in the future'],
  ])('refuses the previous value when <NAME>_ROTATED_AT is %s, naming the variable, never its value', async (_label, value, reason) => {
    const logger = captureLogger();

    const accepted = await acceptedAfterStart({ ADMIN_TOKEN: 'new-token', ADMIN_TOKEN_PREVIOUS: 'old-token', ADMIN_TOKEN_ROTATED_AT: value }, null, logger);

    expect(accepted).toEqual(['new-token']);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.previous_ignored')?.obj).toMatchObject({ name: 'ADMIN_TOKEN', reason });
    expect(logger.text()).not.toContain('canary-not-a-time');
  });

  it('refuses a previous value that fails the secret\'s own rules', async () => {
    const strict = defineCatalog({ ADMIN_TOKEN: { kind: token({ minLength: 32 }), required: true, description: 'admin', acceptsPrevious: true } });
    const logger = captureLogger();
    const env = { ADMIN_TOKEN: 'new-token-0123456789abcdefghijklmnop', ADMIN_TOKEN_PREVIOUS: 'weak-planted', ADMIN_TOKEN_ROTATED_AT: new Date().toISOString() };
    const engine = createSecretsEngine({ catalog: strict, source: createEnvSource({ env, envFilePath: null, logger }), graceMs: GRACE_MS });

    await engine.initialize();

    expect(engine.accepted('ADMIN_TOKEN')).toEqual([env.ADMIN_TOKEN]);
    expect(logger.lines.find((l) => l.obj.event === 'secrets.previous_ignored')?.obj).toMatchObject({ name: 'ADMIN_TOKEN', reason: 'invalid: shorter than 32 characters' });
    expect(logger.text()).not.toContain('weak-planted');
    engine.close();
  });

  it('says it once per secret and reason, not on every refresh', async () => {
    const logger = captureLogger();
    const source = createEnvSource({ env: { ADMIN_TOKEN: 'new-token', ADMIN_TOKEN_PREVIOUS: 'old-token' }, envFilePath: null, logger });

    await source.load(catalog.entries, signal);
    await source.load(catalog.entries, signal);

    expect(logger.lines.filter((l) => l.obj.event === 'secrets.previous_ignored')).toHaveLength(1);
  });
});
