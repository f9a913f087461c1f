import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { expect } from 'vitest';
import { run } from '../../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import type { LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { cliDeps } from '../../cli/support.js';
import { localClient } from '../../support/local-aws.js';
import { injectFaults, type FaultPlan } from './faulty-client.js';

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
