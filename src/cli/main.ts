#!/usr/bin/env node
/**
 * The `secrets` bin: the only place that reads process.env, builds AWS clients and exits.
 */
// The SDK's Node 20 support notice is not for operators reading this CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
const { confirm, password } = await import('@inquirer/prompts');
const { run } = await import('./run.js');
const { execFile } = await import('node:child_process');
const { promisify } = await import('node:util');
const { CliError } = await import('./errors.js');
import type { AwsOptions } from './deps.js';

const clientConfig = (o: AwsOptions) => ({
  region: o.region,
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  ...(o.endpoint !== undefined && { endpoint: o.endpoint }),
  // The SDK's own credential chain, for the named profile when one is given.
  ...(o.profile !== undefined && { profile: o.profile }),
});

const code = await run(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  now: () => Date.now(),
  secretsManager: (o) => new SecretsManagerClient(clientConfig(o)),
  cloudWatch: async (o) => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(clientConfig(o)),
  cloudWatchLogs: async (o) => new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient(clientConfig(o)),
  callerArn: async (o) => {
    try {
      return (await new STSClient(clientConfig(o)).send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
    } catch {
      return 'unknown';
    }
  },
  fetch,
  terraformOutputs: async (dir) => {
    try {
      const { stdout } = await promisify(execFile)('terraform', [`-chdir=${dir}`, 'output', '-json'], { maxBuffer: 4 * 1024 * 1024 });
      return JSON.parse(stdout) as Record<string, { value: unknown }>;
    } catch (err) {
      // terraform's own error text may quote outputs; name only the failure.
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError('FAILED', code === 'ENOENT' ? 'terraform is not installed (needed for --terraform-dir)' : `terraform output -json failed in ${dir}`);
    }
  },
  promptSecret: async (message) => {
    if (!process.stdin.isTTY) throw new CliError('USAGE', 'No terminal to prompt on: pass --from-env FILE --yes');
    try {
      return await password({ message, mask: '*' });
    } catch {
      throw new CliError('CANCELLED', 'Cancelled');
    }
  },
  confirm: async (message) => {
    if (!process.stdin.isTTY) throw new CliError('USAGE', 'No terminal to confirm on: pass --yes');
    try {
      return await confirm({ message, default: false });
    } catch {
      throw new CliError('CANCELLED', 'Cancelled; nothing changed');
    }
  },
});
process.exit(code);
