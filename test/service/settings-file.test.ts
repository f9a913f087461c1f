import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envFileFix, readSettingsFile } from '../../src/service/settings-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'settings-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readSettingsFile', () => {
  it('reads the entries of the file', async () => {
    await writeFile(join(dir, 'a.env'), 'PORT=3100\nLOG_LEVEL=debug\n');
    expect(await readSettingsFile(join(dir, 'a.env'))).toEqual({ PORT: '3100', LOG_LEVEL: 'debug' });
  });

  it('reads a missing file as empty', async () => {
    expect(await readSettingsFile(join(dir, 'missing.env'))).toEqual({});
  });

  it('names the file, the code and the fix when it cannot read it', async () => {
    const folder = join(dir, 'folder.env');
    await mkdir(folder);
    await expect(readSettingsFile(folder)).rejects.toThrow(`Cannot read ${folder}: EISDIR (it is a folder: set ENV_FILE to the .env file's path)`);
  });
});

describe('envFileFix', () => {
  it('tells an unreadable file how to become readable by the service user, and the ENV_FILE way out', () => {
    expect(envFileFix('EACCES', '/srv/app/.env', 'app')).toBe(
      'the service runs as app: give that user read access and keep it private, e.g. sudo chown app /srv/app/.env && chmod 600 /srv/app/.env; or set ENV_FILE to a file it can read',
    );
    expect(envFileFix('EPERM', '/srv/app/.env', 'app')).toBe(envFileFix('EACCES', '/srv/app/.env', 'app'));
  });

  it('points anything else at the path, its permissions and ENV_FILE', () => {
    expect(envFileFix('EIO', '/srv/app/.env', 'app')).toBe('check the path and its permissions, or set ENV_FILE to another file');
    expect(envFileFix(undefined, '/srv/app/.env', 'app')).toBe('check the path and its permissions, or set ENV_FILE to another file');
  });
});
