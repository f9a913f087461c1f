import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { checkEnvFile } from '../../../src/cli/commands/check.js';
import { createEnvFile } from '../../../src/provisioning/create-env-file.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secrets-check-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkEnvFile', () => {
  it('reports a weak token by name and the rule it breaks, never its value', async () => {
    const path = join(dir, 'weak.env');
    const weak = {
      ADMIN_TOKEN: 'weak-planted-admin',
      META_VERIFY_TOKEN: 'weak-planted',
      META_APP_SECRET: 'P'.repeat(40),
    };
    await writeFile(path, Object.entries(weak).map(([k, v]) => `${k}=${v}`).join('\n'));

    const findings = await checkEnvFile(path, whatsappSaasCatalog());

    const rule = (n: number) => `(expected string of at least ${n} characters, 5 or more of them different)`;
    expect(findings).toEqual(
      expect.arrayContaining([
        { name: 'ADMIN_TOKEN', problem: 'invalid', detail: `shorter than 32 characters ${rule(32)}` },
        { name: 'META_VERIFY_TOKEN', problem: 'invalid', detail: `shorter than 16 characters ${rule(16)}` },
        { name: 'META_APP_SECRET', problem: 'invalid', detail: `fewer than 5 different characters ${rule(32)}` },
      ]),
    );
    const text = JSON.stringify(findings);
    for (const value of Object.values(weak)) expect(text).not.toContain(value);
  });

  it('knows a secret\'s companions in env mode: <NAME>_PREVIOUS and <NAME>_ROTATED_AT', async () => {
    const path = join(dir, 'rotated.env');
    await writeFile(path, 'ADMIN_TOKEN_PREVIOUS=x\nADMIN_TOKEN_ROTATED_AT=2026-01-01T00:00:00Z\nNOT_A_SECRET_ROTATED_AT=y\n');

    const findings = await checkEnvFile(path, whatsappSaasCatalog());

    expect(findings.filter((f) => f.problem === 'unknown').map((f) => f.name)).toEqual(['NOT_A_SECRET_ROTATED_AT']);
  });

  it('reports the generated META_APP_SECRET and OPENAI_API_KEY as placeholders, and nothing else in a fresh .env', async () => {
    const path = join(dir, 'fresh.env');
    await createEnvFile({ path, examplePath: join(import.meta.dirname, '../../../.env.example') });

    const findings = await checkEnvFile(path, whatsappSaasCatalog());

    expect(findings).toEqual([
      { name: 'META_APP_SECRET', problem: 'placeholder', detail: 'the placeholder from .env.example: fine for local development, replace it before talking to Meta' },
      { name: 'OPENAI_API_KEY', problem: 'placeholder', detail: 'the placeholder from .env.example: fine for local development, replace it before talking to OpenAI' },
    ]);
  });

  it('says how to fix an .env it cannot read, by the reason', async () => {
    await expect(checkEnvFile(join(dir, 'missing.env'), whatsappSaasCatalog())).rejects.toThrow(`Cannot read ${join(dir, 'missing.env')} (ENOENT); create it with: secrets init`);
    await expect(checkEnvFile(dir, whatsappSaasCatalog())).rejects.toThrow(`Cannot read ${dir} (EISDIR); pass the .env file's path with --env-file`);
  });
});
