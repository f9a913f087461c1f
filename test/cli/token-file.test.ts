import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultTokenPath, findReservations, readReservation, reserveTokenFile, resumeTokenFile } from '../../src/cli/token-file.js';

const SECRET = 'whatsapp-saas/mvp/admin-token';
const V1 = '0a0a0a0a-1111-4222-8333-444444444444';
const V2 = '0b0b0b0b-1111-4222-8333-444444444444';
const TOKEN = 'canary-token-file-A1b2C3d4';

const folder = () => mkdtemp(join(tmpdir(), 'token-file-'));

describe('token files', () => {
  it('reserve a 0600 file naming the secret and version, then hold exactly the token', async () => {
    const path = defaultTokenPath(await folder(), 'admin-token', V1);
    const file = await reserveTokenFile(path, { secretId: SECRET, versionId: V1 });

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readReservation(path)).toEqual({ secretId: SECRET, versionId: V1 });
    await file.fill(TOKEN);
    expect(await readFile(path, 'utf8')).toBe(`${TOKEN}\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readReservation(path)).toBeUndefined();
    await file.fill(TOKEN);
  });

  it('never overwrite an existing file when reserving, nor a file holding something else when filling', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'taken.txt'), 'keep me\n');
    await expect(reserveTokenFile(join(dir, 'taken.txt'), { secretId: SECRET, versionId: V1 })).rejects.toThrow(/Cannot create .*taken\.txt \(EEXIST\); nothing changed/);
    const resumed = await resumeTokenFile(join(dir, 'taken.txt'), { secretId: SECRET, versionId: V1 });
    await expect(resumed.fill(TOKEN)).rejects.toThrow(/holds something other than the token of version/);
    expect(await readFile(join(dir, 'taken.txt'), 'utf8')).toBe('keep me\n');
  });

  it('refuse to resume a file reserved for another version', async () => {
    const path = join(await folder(), 'tok.txt');
    await reserveTokenFile(path, { secretId: SECRET, versionId: V1 });
    await expect(resumeTokenFile(path, { secretId: SECRET, versionId: V2 })).rejects.toThrow(`is reserved for ${SECRET} version ${V1}, not version ${V2}`);
  });

  it('release only a reservation this run made and did not fill', async () => {
    const dir = await folder();
    const made = await reserveTokenFile(join(dir, 'a.txt'), { secretId: SECRET, versionId: V1 });
    await made.release();
    await expect(stat(join(dir, 'a.txt'))).rejects.toMatchObject({ code: 'ENOENT' });

    const filled = await reserveTokenFile(join(dir, 'b.txt'), { secretId: SECRET, versionId: V1 });
    await filled.fill(TOKEN);
    await filled.release();
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe(`${TOKEN}\n`);

    await reserveTokenFile(join(dir, 'c.txt'), { secretId: SECRET, versionId: V2 });
    const found = await resumeTokenFile(join(dir, 'c.txt'), { secretId: SECRET, versionId: V2 });
    await found.release();
    expect(await readReservation(join(dir, 'c.txt'))).toEqual({ secretId: SECRET, versionId: V2 });
  });

  it('find default-named reservations of a secret, newest first, and not those holding tokens or other secrets', async () => {
    const dir = await folder();
    await reserveTokenFile(defaultTokenPath(dir, 'admin-token', V1), { secretId: SECRET, versionId: V1 });
    await reserveTokenFile(defaultTokenPath(dir, 'admin-token', V2), { secretId: 'other/mvp/admin-token', versionId: V2 });
    const done = await reserveTokenFile(join(dir, `.admin-token-new-${V2.replace('0b', '0c')}.txt`), { secretId: SECRET, versionId: V2.replace('0b', '0c') });
    await done.fill(TOKEN);

    expect(await findReservations(dir, 'admin-token', SECRET)).toEqual([{ secretId: SECRET, versionId: V1, path: defaultTokenPath(dir, 'admin-token', V1) }]);
  });
});
