import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(join(SRC, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => resolve(join(file, '..'), m[1]!));
}

describe('dependency direction', () => {
  it('keeps the CLI and the service apart: neither imports the other', async () => {
    for (const [from, forbidden] of [['cli', 'service'], ['service', 'cli']] as const) {
      for (const file of await sources(from)) {
        for (const target of await importsOf(file)) expect(target.startsWith(join(SRC, forbidden) + '/'), `${file} imports ${target}`).toBe(false);
      }
    }
  });
});
