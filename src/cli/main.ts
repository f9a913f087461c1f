#!/usr/bin/env -S node --
/**
 * The `secrets` bin: the only place that reads process.env, builds AWS clients and exits.
 * The `--` in the shebang ends node's own options before the script: Node 20 would otherwise
 * take `secrets init --env-file PATH` as its own --env-file and exit 9 before this runs.
 */
// The SDK's Node 20 support notice is not for operators reading this CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// Usage first, before the AWS SDK and the prompts load: `secrets --help` answers at once.
const { helpOnly } = await import('./help-only.js');
const help = helpOnly(process.argv.slice(2));
if (help !== undefined) {
  await new Promise<void>((resolve) => process.stdout.write(help.text, () => resolve()));
  process.exit(help.code);
}

const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
const { confirm, password } = await import('@inquirer/prompts');
const { default: yoctoSpinner } = await import('yocto-spinner');
const { run } = await import('./run.js');
const { localEndpointCredentials } = await import('./local-credentials.js');
const { colorEnabled } = await import('./style.js');
const { PLAIN_PROMPT_THEME } = await import('./plain-prompt-theme.js');
const { execFile } = await import('node:child_process');
const { promisify } = await import('node:util');
const { CliError, fromAwsError } = await import('./errors.js');
const { classifyAwsError, errorCode } = await import('../engine/index.js');
const { createCredentialClients } = await import('../rotation/create-credential-clients.js');
import type { AwsOptions } from './deps.js';

const clientConfig = (o: AwsOptions) => ({
  region: o.region,
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  ...(o.endpoint !== undefined && { endpoint: o.endpoint }),
  // The SDK's own credential chain, for the named profile when one is given.
  ...(o.profile !== undefined && { profile: o.profile }),
  // The local endpoint accepts any credentials: a fresh machine needs none configured for it.
  ...(localEndpointCredentials(o, process.env) !== undefined && { credentials: localEndpointCredentials(o, process.env) }),
});

// Prompts draw on stdout: coloured only when it is a terminal and NO_COLOR is unset.
const promptTheme = colorEnabled(process.stdout.isTTY === true, process.env) ? {} : { theme: PLAIN_PROMPT_THEME };

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
    } catch (err) {
      // No credentials at all is the operator's to fix before anything else; other STS trouble only costs the name.
      if (classifyAwsError(err).code === 'CredentialsProviderError') throw fromAwsError(err, 'sts:GetCallerIdentity');
      return 'unknown';
    }
  },
  fetch,
  credentialClients: createCredentialClients(),
  terraformOutputs: async (dir) => {
    try {
      const { stdout } = await promisify(execFile)('terraform', [`-chdir=${dir}`, 'output', '-json'], { maxBuffer: 4 * 1024 * 1024 });
      return JSON.parse(stdout) as Record<string, { value: unknown }>;
    } catch (err) {
      // terraform's own error text may quote outputs; name only the failure.
      const code = errorCode(err);
      throw new CliError('FAILED', code === 'ENOENT' ? 'terraform is not installed (needed for --terraform-dir)' : `terraform output -json failed in ${dir}`);
    }
  },
  promptSecret: async (message, validate) => {
    if (!process.stdin.isTTY) throw new CliError('USAGE', 'No terminal to prompt on: pass --from-env FILE --yes');
    try {
      return await password({ message, mask: '*', validate, ...promptTheme });
    } catch {
      throw new CliError('CANCELLED', 'Cancelled');
    }
  },
  confirm: async (message) => {
    if (!process.stdin.isTTY) throw new CliError('USAGE', 'No terminal to confirm on: pass --yes');
    try {
      return await confirm({ message, default: false, ...promptTheme });
    } catch {
      throw new CliError('CANCELLED', 'Cancelled; nothing changed');
    }
  },
  terminal: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  ...(process.stderr.isTTY && {
    spinner: (text: string) => {
      const spinner = yoctoSpinner({ text, stream: process.stderr }).start();
      return { text: (t: string) => void (spinner.text = t), stop: () => void spinner.stop() };
    },
  }),
});
process.exit(code);
