import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..');

describe('README.md', () => {
  it('links only to files inside the repository that exist in a clone', async () => {
    const text = await readFile(join(REPO, 'README.md'), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^(https?:|mailto:|#)/.test(t));

    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      const path = resolve(dirname(join(REPO, 'README.md')), target.split('#')[0]!);
      expect(relative(REPO, path).startsWith('..'), `${target} leaves the repository`).toBe(false);
      expect(existsSync(path), `${target} does not exist`).toBe(true);
    }
    expect(text).not.toMatch(/\.\.\/shared\//);
  });

  it('spells the Compose command `docker compose`, as Docker ships it today (the file stays docker-compose.yml)', async () => {
    for (const doc of ['README.md', 'docs/SECRETS_MANAGEMENT.md']) {
      const text = await readFile(join(REPO, doc), 'utf8');
      expect(text.match(/docker-compose(?!\.ya?ml)/g), doc).toBeNull();
      expect(text, doc).toMatch(/`docker compose up -d`/);
    }
  });
});
