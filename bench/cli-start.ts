/**
 * The operator CLI's start-up, in one run, as ratios against `node -e 0` measured beside it:
 *   node -e 0                                         the floor: Node itself
 *   npm run -s secrets -- --help                      the guide's way (npm, then the CLI bundle)
 *   npm run -s secrets -- status --json               against the local endpoint (in this process,
 *                                                     the catalog seeded), every secret described
 *   node scripts/secrets.mjs --help                   the bundle without npm's own start-up
 *   node --import tsx src/cli/main.ts -- --help       the old way (tsx; its compile cache is warm
 *                                                     after the warm-up, a cold start is slower)
 * Wall time from spawn to exit, median of ROUNDS (7; BENCH_QUICK=1: 2) after one warm-up each (the
 * warm-up also builds the bundle if a source changed). Targets (issue 17): --help within 0.5 s and
 * status within 1 s on a lightly loaded machine; the ratios carry across machines, the
 * milliseconds do not.
 * Usage: npm run bench:cli
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { whatsappSaasCatalog } from '../src/catalog/whatsapp-saas.js';
import { createSecretsManagerClient } from '../src/engine/index.js';
import { startLocalSecretsManager } from '../src/local-aws/local-secrets-manager.js';
import { seedCatalog } from './seed-catalog.js';
import { BENCH_QUICK } from './support/quick.js';

// The SDK's Node 20 support notice is not a benchmark result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const ROUNDS = BENCH_QUICK ? 2 : 7;
const REPO = new URL('..', import.meta.url).pathname;

async function timed(command: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`);
  return ms;
}

async function median(command: string, args: readonly string[]): Promise<number> {
  await timed(command, args);
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) samples.push(await timed(command, args));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const lsm = await startLocalSecretsManager({ port: 0 });
try {
  await seedCatalog(createSecretsManagerClient({ region: 'us-east-1', endpoint: lsm.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }), whatsappSaasCatalog());
  const rows: [string, number, string][] = [];
  const floor = await median(process.execPath, ['-e', '0']);
  rows.push(['node -e 0', floor, '-']);
  rows.push(['npm run -s secrets -- --help', await median('npm', ['run', '-s', 'secrets', '--', '--help']), '<= 500 ms']);
  rows.push(['npm run -s secrets -- status --json (local endpoint)', await median('npm', ['run', '-s', 'secrets', '--', 'status', '--json', '--endpoint-url', lsm.url]), '<= 1000 ms']);
  rows.push(['node scripts/secrets.mjs --help (the bundle without npm)', await median(process.execPath, ['scripts/secrets.mjs', '--help']), '-']);
  rows.push(['node --import tsx src/cli/main.ts -- --help (before; tsx compile cache warm)', await median(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--', '--help']), '-']);

  console.log(`# CLI start-up (${BENCH_QUICK ? 'quick' : 'full'}: median of ${ROUNDS} after a warm-up; node ${process.version})`);
  console.log('');
  console.log('| command | median ms | vs node -e 0 | target |');
  console.log('|---|---:|---:|---|');
  for (const [name, ms, target] of rows) console.log(`| ${name} | ${Math.round(ms)} | ${(ms / floor).toFixed(1)}x | ${target} |`);
} finally {
  await lsm.close();
}
