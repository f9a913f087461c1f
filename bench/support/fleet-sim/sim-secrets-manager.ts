import { BatchGetSecretValueCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../../src/engine/clock.js';

export type SimOperation = 'BatchGetSecretValue' | 'GetSecretValue';

/** Secrets Manager's published per-region request quotas (BatchGetSecretValue's cannot be raised). */
export const PUBLISHED_QUOTAS_PER_SECOND: Readonly<Record<SimOperation, number>> = { BatchGetSecretValue: 100, GetSecretValue: 10_000 };

interface Version {
  readonly id: string;
  readonly value: string;
  readonly createdAt: Date;
  stages: string[];
}

/** Calls received in one second of one operation, and how many of them were throttled. */
export interface SecondCount {
  received: number;
  throttled: number;
}

/**
 * Secrets Manager for the simulation: the catalog's secrets with versions and staging labels, a
 * fixed latency, and the published quotas enforced per operation per second of the clock: a call
 * past the quota of its second is answered ThrottlingException (shaped as the SDK shapes it, so
 * the engine's own classifier sorts it). Every call is counted per second, by the phase the
 * simulation says it is in.
 */
export class SimSecretsManager {
  private readonly secrets = new Map<string, Version[]>();
  private readonly admitted = new Map<string, number>();
  private versionSeq = 0;
  phase = 'setup';
  /** phase -> operation -> second -> counts. */
  readonly counts = new Map<string, Map<SimOperation, Map<number, SecondCount>>>();

  constructor(
    private readonly clock: Clock,
    private readonly quotas: Readonly<Record<SimOperation, number>> = PUBLISHED_QUOTAS_PER_SECOND,
    private readonly latencyMs = 25,
  ) {}

  /** A new current version (the old one becomes AWSPREVIOUS); returns its id. */
  put(awsId: string, value: string, createdAtMs = this.clock.now()): string {
    const versions = this.secrets.get(awsId) ?? [];
    for (const v of versions) v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : [];
    const id = `00000000-0000-4000-8000-${String(++this.versionSeq).padStart(12, '0')}`;
    versions.push({ id, value, createdAt: new Date(createdAtMs), stages: ['AWSCURRENT'] });
    this.secrets.set(awsId, versions);
    return id;
  }

  /** One instance's client: only `send`, as the engine's AWS source uses it. */
  client(): SecretsManagerClient {
    return { send: (command: unknown, options?: { abortSignal?: AbortSignal }) => this.send(command, options?.abortSignal) } as unknown as SecretsManagerClient;
  }

  private count(op: SimOperation, throttled: boolean): void {
    let byOp = this.counts.get(this.phase);
    if (byOp === undefined) this.counts.set(this.phase, (byOp = new Map()));
    let bySecond = byOp.get(op);
    if (bySecond === undefined) byOp.set(op, (bySecond = new Map()));
    const second = Math.floor(this.clock.now() / 1000);
    let c = bySecond.get(second);
    if (c === undefined) bySecond.set(second, (c = { received: 0, throttled: 0 }));
    c.received++;
    if (throttled) c.throttled++;
  }

  private send(command: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    signal?.throwIfAborted();
    const op: SimOperation = command instanceof BatchGetSecretValueCommand ? 'BatchGetSecretValue' : command instanceof GetSecretValueCommand ? 'GetSecretValue' : fail(command);
    const key = `${op}@${Math.floor(this.clock.now() / 1000)}`;
    const admitted = this.admitted.get(key) ?? 0;
    const throttled = admitted >= this.quotas[op];
    if (!throttled) this.admitted.set(key, admitted + 1);
    this.count(op, throttled);
    return new Promise((resolve, reject) => {
      this.clock.setTimeout(() => {
        try {
          if (throttled) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
          if (command instanceof BatchGetSecretValueCommand) resolve(this.batch(command.input.SecretIdList ?? []));
          else resolve(this.single((command as GetSecretValueCommand).input.SecretId!, (command as GetSecretValueCommand).input.VersionStage ?? 'AWSCURRENT'));
        } catch (err) {
          reject(err as Error);
        }
      }, this.latencyMs);
    });
  }

  private entry(awsId: string, v: Version) {
    return { Name: awsId, ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${awsId}-AbCdEf`, SecretString: v.value, VersionId: v.id, VersionStages: [...v.stages], CreatedDate: v.createdAt };
  }

  private batch(ids: readonly string[]) {
    const SecretValues = [];
    const Errors = [];
    for (const id of ids) {
      const v = this.secrets.get(id)?.find((x) => x.stages.includes('AWSCURRENT'));
      if (v === undefined) Errors.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException' });
      else SecretValues.push(this.entry(id, v));
    }
    return { SecretValues, Errors };
  }

  private single(id: string, stage: string) {
    const v = this.secrets.get(id)?.find((x) => x.stages.includes(stage));
    if (v === undefined) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    return this.entry(id, v);
  }
}

function fail(command: unknown): never {
  throw new Error(`SimSecretsManager: unexpected command ${(command as object).constructor.name}`);
}
