import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildPolicies, POLICY_FILES, type PolicyScope } from '../iam-policies.js';

/** `secrets iam`: writes the three least-privilege policies; returns the paths written. */
export async function writePolicies(scope: PolicyScope, outDir: string): Promise<string[]> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const policies = buildPolicies(scope);
  const written: string[] = [];
  for (const [key, file] of Object.entries(POLICY_FILES) as [keyof typeof POLICY_FILES, string][]) {
    const path = join(dir, file);
    await writeFile(path, `${JSON.stringify(policies[key], null, 2)}\n`);
    written.push(path);
  }
  return written;
}
