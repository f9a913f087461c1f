import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../service/support/service-process.js';

/** The documents whose `npm run X` commands a reader runs: each needs a smoke run in `npm test`. */
export const DOCUMENTS = ['README.md', 'BENCHMARKS.md', 'RELIABILITY.md', 'docs/SECRETS_MANAGEMENT.md'] as const;

/** `npm run X`, `npm run -s X`, `npm run --silent X`: the script's name, as npm spells it. */
const NPM_RUN = /\bnpm run(?:\s+(?:-s|--silent))?\s+([a-z][a-z0-9:_-]*)/g;

/** Every script name the documents run with `npm run`, sorted, with the documents naming it. */
export function documentedScripts(repo = REPO): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const doc of DOCUMENTS) {
    for (const [, name] of readFileSync(join(repo, doc), 'utf8').matchAll(NPM_RUN)) {
      const docs = found.get(name!) ?? [];
      if (!docs.includes(doc)) docs.push(doc);
      found.set(name!, docs);
    }
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)));
}

/** The smoke test file of a script: `bench:fleet` → test/scripts/smoke.bench-fleet.test.ts. */
export function smokeTestFile(script: string): string {
  return `test/scripts/smoke.${script.replaceAll(':', '-')}.test.ts`;
}
