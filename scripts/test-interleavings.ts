import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `npm run test:interleavings -- --runs N [--only tokens|passwords] [--seed S] [--path P]
 * [--replay-path R]`: the rotation protocol's model-based test
 * (test/rotation/rotation-protocol.model.test.ts) with N runs in all instead of the 1,000 of every
 * `npm test`. A failure prints the command that replays it: --only names the property that
 * failed, --seed and --path the run and its shrinking, --replay-path the shrunk commands.
 */
export const MODEL_TEST = 'test/rotation/rotation-protocol.model.test.ts';

export function interleavingEnv(argv: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  const names: Readonly<Record<string, string>> = {
    '--runs': 'INTERLEAVING_RUNS',
    '--only': 'INTERLEAVING_ONLY',
    '--seed': 'INTERLEAVING_SEED',
    '--path': 'INTERLEAVING_PATH',
    '--replay-path': 'INTERLEAVING_REPLAY_PATH',
  };
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  for (let i = 0; i < args.length; i += 2) {
    const name = names[args[i]!];
    const value = args[i + 1];
    if (name === undefined || value === undefined) throw new Error(`usage: npm run test:interleavings -- --runs N [--only tokens|passwords] [--seed S] [--path P] [--replay-path R] (got ${JSON.stringify(args[i])})`);
    if (name === 'INTERLEAVING_ONLY' && value !== 'tokens' && value !== 'passwords') throw new Error('--only takes tokens or passwords');
    if ((name === 'INTERLEAVING_RUNS' || name === 'INTERLEAVING_SEED') && !/^-?\d+$/.test(value)) throw new Error(`${args[i]!} takes an integer`);
    if (name === 'INTERLEAVING_RUNS' && Number(value) < 1) throw new Error('--runs takes a positive integer');
    env[name] = value;
  }
  return env;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let env: Record<string, string>;
  try {
    env = interleavingEnv(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const child = spawn('npx', ['vitest', 'run', MODEL_TEST], { stdio: 'inherit', env: { ...process.env, ...env } });
  child.on('exit', (code) => process.exit(code ?? 1));
}
