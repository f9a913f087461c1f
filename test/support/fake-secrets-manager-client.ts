import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type BatchGetSecretValueCommandOutput,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

type BatchAnswer = Partial<BatchGetSecretValueCommandOutput>;
type GetAnswer = Partial<GetSecretValueCommandOutput>;

export interface FakeCall {
  readonly operation: 'BatchGetSecretValue' | 'GetSecretValue';
  readonly ids: readonly string[];
  readonly stage?: string;
}

/** An AWS SDK error as the SDK shapes it: the exception name and the HTTP status. */
export function awsError(name: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(`${name} (message deliberately not asserted)`), { name, $metadata: { httpStatusCode } });
}

/**
 * A stand-in for SecretsManagerClient in unit tests of the AWS source's logic (mapping answers to
 * names, fallbacks, stage checks, concurrency): each call goes to a handler the test sets, and
 * waits for `abortSignal` like the SDK. Wire behaviour is tested against the local endpoint.
 */
export class FakeSecretsManagerClient {
  calls: FakeCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  onBatch: (ids: readonly string[]) => BatchAnswer | Promise<BatchAnswer> = () => ({ SecretValues: [] });
  onGet: (id: string, stage: string | undefined) => GetAnswer | Promise<GetAnswer> = () => {
    throw awsError('ResourceNotFoundException');
  };

  asClient(): SecretsManagerClient {
    return this as unknown as SecretsManagerClient;
  }

  async send(command: unknown, options: { abortSignal?: AbortSignal } = {}): Promise<unknown> {
    const signal = options.abortSignal;
    signal?.throwIfAborted();
    let work: () => unknown;
    if (command instanceof BatchGetSecretValueCommand) {
      const ids = command.input.SecretIdList ?? [];
      this.calls.push({ operation: 'BatchGetSecretValue', ids });
      work = () => this.onBatch(ids);
    } else if (command instanceof GetSecretValueCommand) {
      const id = command.input.SecretId!;
      const stage = command.input.VersionStage;
      this.calls.push({ operation: 'GetSecretValue', ids: [id], ...(stage !== undefined && { stage }) });
      work = () => this.onGet(id, stage);
    } else {
      throw new Error('FakeSecretsManagerClient: unexpected command');
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const answer = Promise.resolve().then(work);
      if (signal === undefined) return await answer;
      const aborted = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true }),
      );
      return await Promise.race([answer, aborted]);
    } finally {
      this.inFlight--;
    }
  }
}
