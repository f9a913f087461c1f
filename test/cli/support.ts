import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliDeps } from '../../src/cli/deps.js';
import { createSecretsManagerClient } from '../../src/engine/index.js';
import type { LocalSecretsManager } from '../../src/local-aws/local-secrets-manager.js';
import { TEST_CREDENTIALS } from '../support/local-aws.js';

/** Deps for run(): the real SDK against the local endpoint, output captured, confirmations answered. */
export async function cliDeps(lsm: LocalSecretsManager, overrides: Partial<CliDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = await mkdtemp(join(tmpdir(), 'secrets-cli-'));
  const deps: CliDeps = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd,
    now: () => Date.now(),
    secretsManager: (o) => createSecretsManagerClient({ region: o.region, endpoint: lsm.url, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
    callerArn: async () => 'arn:aws:iam::000000000000:user/test-operator',
    fetch,
    confirm: async () => true,
    promptSecret: async () => '',
    terraformOutputs: async () => ({}),
    cloudWatch: async () => {
      throw new Error('this test gives the CLI no CloudWatch endpoint');
    },
    cloudWatchLogs: async () => {
      throw new Error('this test gives the CLI no CloudWatch Logs endpoint');
    },
    ...overrides,
  };
  return { deps, cwd, stdout: () => out.join(''), stderr: () => err.join(''), clear: () => ((out.length = 0), (err.length = 0)) };
}
