import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SpinnerFactory } from './progress.js';

/** What commands need from the world; the bin entry builds the real ones, tests inject theirs. */
export interface AwsOptions {
  readonly region: string;
  readonly endpoint?: string;
  readonly profile?: string;
}

export interface CliDeps {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly now: () => number;
  readonly secretsManager: (options: AwsOptions) => SecretsManagerClient;
  /** For `secrets alarms --apply` only: loaded on first use, so other commands do not pay for them. */
  readonly cloudWatch: (options: AwsOptions) => Promise<CloudWatchClient>;
  readonly cloudWatchLogs: (options: AwsOptions) => Promise<CloudWatchLogsClient>;
  /**
   * The caller's ARN (STS GetCallerIdentity), for logs; 'unknown' when STS cannot say. Rejects
   * with CliError CREDENTIALS when no credentials are configured, so commands can check before asking.
   */
  readonly callerArn: (options: AwsOptions) => Promise<string>;
  readonly fetch: typeof fetch;
  /** Asks a yes/no question; rejects with CliError CANCELLED on Ctrl-C. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** `terraform output -json` in a folder. */
  readonly terraformOutputs: (dir: string) => Promise<Readonly<Record<string, { readonly value: unknown }>>>;
  /**
   * Asks for a secret with hidden input, checking each answer as it is typed: `validate` returns
   * true, or the reason to show before asking again (never the value). '' is an empty answer.
   */
  readonly promptSecret: (question: string, validate: (answer: string) => true | string) => Promise<string>;
  /** Which streams are terminals (colour on stdout, a spinner on stderr); neither when absent. */
  readonly terminal?: { readonly stdout: boolean; readonly stderr: boolean };
  /** Starts a spinner on stderr; given only when stderr is a terminal. */
  readonly spinner?: SpinnerFactory;
}

/** Global options every command takes. */
export interface GlobalOptions {
  readonly json: boolean;
  readonly aws: AwsOptions;
  readonly project: string;
  readonly environment: string;
}
