#!/usr/bin/env node
// `npm run secrets`: the operator CLI (src/cli/main.ts) from one esbuild bundle instead of tsx,
// which compiled every TypeScript file at each start (1.5 s and more). The bundle is built on
// first use and again whenever one of its source files changed (their sizes and modification
// times are recorded beside it), in node_modules/.cache/secrets-cli/ (git- and docker-ignored
// with node_modules). A run that finds it fresh costs a few stat calls, then imports it.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(REPO, 'node_modules/.cache/secrets-cli');
const BUNDLE = join(CACHE, 'main.mjs');
const INPUTS = join(CACHE, 'inputs.json');

/** Size and modification time of a file, or null when it is gone. */
async function fingerprint(path) {
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

async function fresh() {
  let recorded;
  try {
    recorded = JSON.parse(await readFile(INPUTS, 'utf8'));
  } catch {
    return false;
  }
  if ((await fingerprint(BUNDLE)) === null) return false;
  const now = await Promise.all(Object.keys(recorded).map(async (file) => [file, await fingerprint(join(REPO, file))]));
  return now.every(([file, print]) => print === recorded[file]);
}

async function build() {
  const { build: esbuild } = await import('esbuild');
  await mkdir(CACHE, { recursive: true });
  // Written under a name of this process, then renamed: a concurrent run never imports half a file.
  const tmp = join(CACHE, `main.${process.pid}.mjs`);
  const result = await esbuild({
    absWorkingDir: REPO,
    entryPoints: ['src/cli/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: tmp,
    metafile: true,
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(): give the ES module one.
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  });
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) inputs[file] = await fingerprint(join(REPO, file));
  inputs['package-lock.json'] = await fingerprint(join(REPO, 'package-lock.json'));
  await rename(tmp, BUNDLE);
  await writeFile(INPUTS, JSON.stringify(inputs));
}

if (!(await fresh())) await build();
await import(pathToFileURL(BUNDLE).href);
