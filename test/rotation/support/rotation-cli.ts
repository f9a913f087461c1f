import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { run } from '../../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { cliDeps } from '../../cli/support.js';
import { localClient } from '../../support/local-aws.js';
import { injectFaults, type FaultPlan } from './faulty-client.js';
// The switch stamp (grace from the switch) is asserted in rotation-steps.test.ts; here only the rotation's own labels.
import { SWITCH_STAGE_PREFIX } from '../../../src/engine/source.js';

/** Every output of a test's commands, and the values none of them may show. */
export class OutputScan {
  private readonly outputs: string[] = [];
  private readonly values = new Set<string>();

  constructor(...values: string[]) {
    for (const v of values) this.values.add(v);
  }

  output(...texts: string[]): void {
    this.outputs.push(...texts);
  }

  secret(value: string): void {
    if (value !== '') this.values.add(value);
  }

  /** Asserts no value was shown, and starts over for the next test. */
  expectClean(): void {
    const text = this.outputs.join('\n');
    this.outputs.length = 0;
    for (const v of this.values) expect(text).not.toContain(v);
  }
}

/** A fresh secret of `name` under its own project prefix (so tests share one endpoint), and a fresh folder. */
export async function secretScenario(lsm: LocalSecretsManager, project: string, value: string, name = 'ADMIN_TOKEN') {
  const secretId = whatsappSaasCatalog({ project }).entry(name)!.awsId;
  await localClient(lsm).send(new CreateSecretCommand({ Name: secretId, SecretString: value }));
  return { project, secretId, cwd: await mkdtemp(join(tmpdir(), 'secrets-rotation-')) };
}

export interface CliRunOptions {
  readonly cwd: string;
  readonly faults?: FaultPlan;
  readonly now?: () => number;
  readonly confirm?: (question: string) => Promise<boolean>;
}

/**
 * One `secrets` invocation against the local endpoint, with faults injected into its client.
 * Outputs go to `scan`, except the token `--print` puts on stdout, which becomes a value to look for.
 */
export async function secretsCli(lsm: LocalSecretsManager, scan: OutputScan, argv: string[], opts: CliRunOptions) {
  let calls: string[] = [];
  const c = await cliDeps(lsm, {
    cwd: opts.cwd,
    secretsManager: () => {
      const client = localClient(lsm);
      calls = injectFaults(client, opts.faults).calls;
      return client;
    },
    ...(opts.now !== undefined && { now: opts.now }),
    ...(opts.confirm !== undefined && { confirm: opts.confirm }),
  });
  const code = await run(argv, c.deps);
  const printed = argv.includes('--print') ? c.stdout().trim() : '';
  scan.secret(printed);
  scan.output(printed === '' ? c.stdout() : '', c.stderr());
  return { code, stdout: c.stdout(), stderr: c.stderr(), printed, calls };
}

/** Labels, values and the one-AWSCURRENT invariant of a secret; every value it holds becomes one `scan` looks for. */
export async function secretStateOf(lsm: LocalSecretsManager, scan: OutputScan, secretId: string) {
  const client = localClient(lsm);
  const versions = (await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
  const holders = (stage: string) => versions.filter((v) => v.VersionStages?.includes(stage));
  expect(holders('AWSCURRENT')).toHaveLength(1);
  const currentId = holders('AWSCURRENT')[0]!.VersionId!;
  const value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!;
  const unfinished = holders('AWSPENDING').find((v) => !v.VersionStages!.includes('AWSCURRENT') && !v.VersionStages!.includes('AWSPREVIOUS'));
  for (const v of versions) {
    const s = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: v.VersionId! })).catch(() => undefined);
    if (s?.SecretString !== undefined) scan.secret(s.SecretString);
  }
  // A version a run put under its own candidate label and stopped before claiming (AWSPENDING).
  const candidate = versions.find((v) => v.VersionStages?.some((s) => s === `ROTATION_CANDIDATE_${v.VersionId}`));
  return { currentId, value, unfinishedId: unfinished?.VersionId, candidateId: candidate?.VersionId, stages: Object.fromEntries(versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].filter((s) => !s.startsWith(SWITCH_STAGE_PREFIX)).sort()])) };
}

/** Token files in a folder: their tokens (each 0600, each a value `scan` looks for), and any still only reserved. */
export async function tokenFilesIn(scan: OutputScan, cwd: string) {
  const tokens: string[] = [];
  const reserved: string[] = [];
  for (const name of await readdir(cwd)) {
    if (!name.endsWith('.txt')) continue;
    const text = await readFile(join(cwd, name), 'utf8');
    if (text.startsWith('# secrets rotate: reserved')) reserved.push(name);
    else {
      tokens.push(text.trim());
      scan.secret(text.trim());
      expect((await stat(join(cwd, name))).mode & 0o777).toBe(0o600);
    }
  }
  return { tokens, reserved };
}

/**
 * What a CLI test file of rotate, rollback or verify sets up: a local endpoint started before its
 * tests and closed after them, an output scan for `original` (the token the operator holds)
 * checked after every test, and the helpers above bound to both. Projects are numbered under
 * `prefix`, so each scenario has secrets of its own.
 */
export function rotationCliFixture(original: string, prefix: string) {
  let started: LocalSecretsManager | undefined;
  let projects = 0;
  const scan = new OutputScan(original);
  beforeAll(async () => {
    started = await startLocalSecretsManager({ port: 0 });
  });
  afterAll(async () => {
    await started?.close();
  });
  afterEach(() => scan.expectClean());
  const endpoint = (): LocalSecretsManager => {
    if (started === undefined) throw new Error('the local endpoint starts in beforeAll');
    return started;
  };
  return {
    scan,
    get lsm() {
      return endpoint();
    },
    scenario: (name?: string) => secretScenario(endpoint(), `${prefix}${++projects}`, original, name),
    secretsCli: (argv: string[], opts: CliRunOptions) => secretsCli(endpoint(), scan, argv, opts),
    stateOf: (secretId: string) => secretStateOf(endpoint(), scan, secretId),
    tokenFiles: (cwd: string) => tokenFilesIn(scan, cwd),
    /** Runs `work` while the endpoint answers AccessDeniedException to `operations`, then clears the faults whatever happened. */
    async denying<T>(operations: string[], work: () => Promise<T>): Promise<T> {
      endpoint().setFaults({ denyOperations: operations });
      try {
        return await work();
      } finally {
        endpoint().clearFaults();
      }
    },
  };
}
