import { DescribeSecretCommand, ReplicateSecretToRegionsCommand, type DescribeSecretCommandOutput, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError, type Catalog } from '../engine/index.js';
import { CliError, fromAwsError } from './errors.js';

/** One replica of a secret, as `secrets status --json` shows it. */
export interface ReplicaView {
  readonly region: string;
  readonly status: string;
  readonly statusMessage?: string;
}

export function replicaViews(d: Pick<DescribeSecretCommandOutput, 'ReplicationStatus'>): ReplicaView[] {
  return (d.ReplicationStatus ?? []).map((r) => ({
    region: r.Region ?? '?',
    status: r.Status ?? 'Unknown',
    ...(r.StatusMessage !== undefined && { statusMessage: r.StatusMessage }),
  }));
}

/** What `secrets setup --replica-regions` did for one secret. */
export interface ReplicationRow {
  readonly name: string;
  readonly secretId: string;
  /** Regions added by this run (empty on a second run: idempotent). */
  readonly added: readonly string[];
  readonly replication: readonly ReplicaView[];
}

/**
 * Replicates every existing catalog secret to `regions`: ReplicateSecretToRegions with only the
 * regions a secret is not replicated to yet, so a second run changes nothing. Secrets that do
 * not exist are skipped (setup creates them with AddReplicaRegions).
 */
export async function replicateSecrets(client: SecretsManagerClient, catalog: Catalog, regions: readonly string[]): Promise<ReplicationRow[]> {
  const rows: ReplicationRow[] = [];
  for (const { name, awsId } of catalog.entries) {
    let described: DescribeSecretCommandOutput;
    try {
      described = await client.send(new DescribeSecretCommand({ SecretId: awsId }));
    } catch (err) {
      if (classifyAwsError(err).code === 'ResourceNotFoundException') continue;
      throw fromAwsError(err, awsId);
    }
    const present = new Set(replicaViews(described).map((r) => r.region));
    const missing = regions.filter((r) => !present.has(r));
    if (missing.length === 0) {
      rows.push({ name, secretId: awsId, added: [], replication: replicaViews(described) });
      continue;
    }
    try {
      const out = await client.send(new ReplicateSecretToRegionsCommand({ SecretId: awsId, AddReplicaRegions: missing.map((Region) => ({ Region })) }));
      rows.push({ name, secretId: awsId, added: missing, replication: replicaViews(out) });
    } catch (err) {
      throw fromAwsError(err, awsId);
    }
  }
  return rows;
}

/**
 * Writes (setup values, rotate, rollback) go to a secret's primary region only: Secrets Manager
 * refuses them in a replica, and a write there would mean the operator's region points at the
 * wrong place. Refuses, naming the primary, when `region` holds a replica of any of `secretIds`;
 * otherwise answers the replica regions the write will reach (to say so). Secrets that do not
 * exist yet are skipped.
 */
export async function assertPrimaryRegion(client: SecretsManagerClient, secretIds: readonly string[], region: string): Promise<string[]> {
  const replicas = new Set<string>();
  for (const secretId of secretIds) {
    let d: DescribeSecretCommandOutput;
    try {
      d = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (err) {
      if (classifyAwsError(err).code === 'ResourceNotFoundException') continue;
      throw fromAwsError(err, secretId);
    }
    if (d.PrimaryRegion !== undefined && d.PrimaryRegion !== region) {
      throw new CliError(
        'USAGE',
        `${secretId} in ${region} is a read-only replica; its primary region is ${d.PrimaryRegion}. Writes go to the primary: run again with --region ${d.PrimaryRegion}`,
      );
    }
    for (const r of replicaViews(d)) replicas.add(r.region);
  }
  return [...replicas];
}

/** The line that says where a write goes, for a secret with replicas (nothing without). */
export function writeRegionLine(region: string, replicas: readonly string[]): string {
  return replicas.length === 0 ? '' : `Writes go to the primary region ${region}; Secrets Manager replicates them to ${replicas.join(', ')}.\n`;
}

/**
 * The error to show when a write failed because `secretId` in `region` is a replica: Secrets
 * Manager refuses writes there (InvalidRequestException). Only on that failure path is the
 * secret described, to name its primary; otherwise undefined (the original error stands).
 */
export async function replicaWriteRefusal(client: SecretsManagerClient, err: unknown, secretId: string, region: string): Promise<CliError | undefined> {
  let invalidRequest = false;
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (classifyAwsError(e).code === 'InvalidRequestException') invalidRequest = true;
  }
  if (!invalidRequest) return undefined;
  try {
    await assertPrimaryRegion(client, [secretId], region);
  } catch (refusal) {
    if (refusal instanceof CliError) return refusal;
  }
  return undefined;
}
