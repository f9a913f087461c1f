import { CreateSecretCommand, PutSecretValueCommand, ReplicateSecretToRegionsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretsManagerClient } from '../../src/engine/aws-client.js';
import type { Catalog } from '../../src/engine/catalog.js';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startLocalSecretsManager, type LocalSecretsManager, type LocalSecretsManagerOptions } from '../../src/local-aws/local-secrets-manager.js';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A real SDK client for the local endpoint, with the same bounded timeouts production uses (us-east-1 unless `region`). */
export function localClient(lsm: LocalSecretsManager, opts: { requestTimeoutMs?: number; maxAttempts?: number; region?: string } = {}): SecretsManagerClient {
  return createSecretsManagerClient({
    region: opts.region ?? 'us-east-1',
    endpoint: lsm.url,
    credentials: TEST_CREDENTIALS,
    requestTimeoutMs: opts.requestTimeoutMs ?? 2_000,
    maxAttempts: opts.maxAttempts ?? 1,
  });
}

/** A local Secrets Manager whose clock can be moved back, to create secrets "a day ago". */
export async function startBackdatedLocalAws(): Promise<{ lsm: LocalSecretsManager; setOffsetMs(ms: number): void }> {
  let offsetMs = 0;
  const lsm = await startLocalSecretsManager({ port: 0, clock: { now: () => Date.now() + offsetMs } });
  return { lsm, setOffsetMs: (ms) => (offsetMs = ms) };
}

export async function createAll(client: SecretsManagerClient, catalog: Catalog, values: Readonly<Record<string, string>>): Promise<void> {
  for (const { name, awsId } of catalog.entries) {
    const value = values[name];
    if (value !== undefined) await client.send(new CreateSecretCommand({ Name: awsId, SecretString: value }));
  }
}

export async function putValue(client: SecretsManagerClient, secretId: string, value: string, stages?: string[]): Promise<string> {
  const out = await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value, ...(stages && { VersionStages: stages }) }));
  return out.VersionId!;
}

/** Replicates every catalog secret present in the primary (the client's region) to `regions`. */
export async function replicateAll(client: SecretsManagerClient, catalog: Catalog, regions: readonly string[]): Promise<void> {
  for (const { awsId } of catalog.entries) {
    await client.send(new ReplicateSecretToRegionsCommand({ SecretId: awsId, AddReplicaRegions: regions.map((Region) => ({ Region })) }));
  }
}

/**
 * The local Secrets Manager for the tests around the call (a file or a describe block): started on
 * a free port before all of them (before each, with `each`) and closed after. What it returns
 * stands for the endpoint running at the time, so a test uses it as the endpoint itself; outside
 * a test there is none, and touching it throws.
 */
export function useLocalAws(options: LocalSecretsManagerOptions & { readonly each?: boolean } = {}): LocalSecretsManager {
  const { each = false, ...start } = options;
  let current: LocalSecretsManager | undefined;
  (each ? beforeEach : beforeAll)(async () => {
    current = await startLocalSecretsManager({ port: 0, ...start });
  });
  (each ? afterEach : afterAll)(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as LocalSecretsManager, {
    get(_, property) {
      if (current === undefined) throw new Error('The local Secrets Manager of useLocalAws() runs only inside the tests around it');
      const value: unknown = Reflect.get(current, property, current);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}
