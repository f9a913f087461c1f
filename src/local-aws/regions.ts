import { AwsServiceError } from './errors.js';
import { SecretStore, type Clock, type ReplicaState, type SecretRecord, type SecretVersion } from './store.js';

/**
 * Every region of the local endpoint, in one process: one SecretStore per region (created on the
 * first request that names it, as every AWS region exists), and the replication of a primary
 * secret to its replica regions as Secrets Manager does it: same name, same ARN suffix, the
 * versions, labels, description and tags copied after every change of the primary, read-only in
 * the replica. A replica falls behind by the region's injected `replicationLagMs` (wall clock), in
 * order: a change is never overtaken by a later one.
 */
export interface RegionsOptions {
  readonly defaultRegion: string;
  readonly accountId: string;
  readonly clock: Clock;
  /** The injected replication lag towards a region, in milliseconds (0: at once). */
  readonly lagMsFor: (region: string) => number;
}

/** AWS region names: `us-east-1`, `eu-west-1`, `ap-southeast-2`, `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

export class Regions {
  private readonly stores = new Map<string, SecretStore>();
  /** Per primary secret: the state last sent to its replicas, to send only changes. */
  private readonly sent = new WeakMap<SecretRecord, string>();
  /** Lagged deliveries not yet made, in the order they were sent. */
  private readonly pending = new Map<NodeJS.Timeout, () => void>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: RegionsOptions) {
    this.store(options.defaultRegion);
  }

  get defaultRegion(): string {
    return this.options.defaultRegion;
  }

  store(region: string): SecretStore {
    let store = this.stores.get(region);
    if (!store) {
      store = new SecretStore({ region, accountId: this.options.accountId, clock: this.options.clock });
      this.stores.set(region, store);
    }
    return store;
  }

  /** Empties every region. */
  clear(): void {
    for (const timer of this.pending.keys()) clearTimeout(timer);
    this.pending.clear();
    for (const store of this.stores.values()) store.clear();
    this.settleIdle();
  }

  close(): void {
    this.clear();
  }

  /**
   * ReplicateSecretToRegions (and CreateSecret's AddReplicaRegions): a replica per new region.
   * A region that already holds a secret of that name fails with AWS's status message unless
   * `force` (ForceOverwriteReplicaSecret); a region already a replica is left as it is.
   */
  replicate(primary: SecretRecord, primaryRegion: string, targets: ReadonlyArray<{ region: string; kmsKeyId?: string }>, force: boolean): void {
    const replicas = primaryReplicas(primary);
    for (const target of targets) {
      if (target.region === primaryRegion) {
        throw new AwsServiceError('InvalidParameterException', `Invalid replica region: ${target.region} is the primary region of the secret.`);
      }
      if (!REGION_PATTERN.test(target.region)) {
        throw new AwsServiceError('InvalidParameterException', 'Invalid replica region: not a region name.');
      }
    }
    for (const target of targets) {
      const existing = replicas.get(target.region);
      if (existing && existing.status !== 'Failed') continue;
      const store = this.store(target.region);
      const occupant = store.find(primary.name);
      const state: ReplicaState = { region: target.region, status: 'InProgress', ...(target.kmsKeyId ? { kmsKeyId: target.kmsKeyId } : {}) };
      replicas.set(target.region, state);
      if (occupant) {
        if (!force) {
          state.status = 'Failed';
          state.statusMessage = 'Replication failed: Secret name already exists in the destination Region.';
          continue;
        }
        store.remove(occupant);
      }
      store.insertReplica(primary, primaryRegion);
    }
    this.sent.delete(primary);
    this.sync(primary, primaryRegion);
  }

  /** RemoveRegionsFromReplication: the replicas in those regions are deleted. */
  removeReplicas(primary: SecretRecord, regions: readonly string[]): void {
    const replicas = primaryReplicas(primary);
    for (const region of regions) {
      if (!replicas.has(region)) {
        throw new AwsServiceError('InvalidParameterException', `The secret is not replicated to ${region}.`);
      }
    }
    for (const region of regions) {
      const state = replicas.get(region)!;
      replicas.delete(region);
      if (state.status === 'Failed') continue;
      const replica = this.store(region).find(primary.name);
      if (replica?.primaryRegion !== undefined) this.store(region).remove(replica);
    }
  }

  /** StopReplicationToReplica, called in the replica's region: the replica becomes a standalone secret. */
  promote(replica: SecretRecord, replicaRegion: string): void {
    const primaryRegion = replica.primaryRegion;
    if (primaryRegion === undefined) {
      throw new AwsServiceError('InvalidRequestException', 'The secret is not a replica; StopReplicationToReplica is called in the region of a replica.');
    }
    const primary = this.store(primaryRegion).find(replica.name);
    primary?.replicas?.delete(replicaRegion);
    delete replica.primaryRegion;
    (replica as { replicas?: Map<string, ReplicaState> }).replicas = new Map();
    replica.lastChangedMs = this.options.clock.now();
  }

  /** After any request: sends every primary secret's change (if any) to its replicas. */
  syncAll(): void {
    for (const [region, store] of this.stores) {
      for (const secret of store.all()) {
        if (secret.replicas !== undefined && secret.replicas.size > 0) this.sync(secret, region);
      }
    }
  }

  /** Delivers every lagged change now, in order (a test's way past the lag without waiting). */
  flush(): void {
    for (const [timer, deliver] of [...this.pending]) {
      clearTimeout(timer);
      this.pending.delete(timer);
      deliver();
    }
    this.settleIdle();
  }

  /** Resolves once no replication is pending (an injected lag has run out). */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private sync(primary: SecretRecord, primaryRegion: string): void {
    const state = fingerprint(primary);
    if (this.sent.get(primary) === state) return;
    this.sent.set(primary, state);
    const copy = copyData(primary);
    for (const replica of primaryReplicas(primary).values()) {
      if (replica.status === 'Failed') continue;
      const apply = () => {
        const target = this.store(replica.region).find(primary.name);
        if (target?.primaryRegion !== primaryRegion) return;
        applyData(target, copy);
        if (primary.replicas?.get(replica.region) === replica) replica.status = 'InSync';
      };
      const lagMs = this.options.lagMsFor(replica.region);
      if (lagMs <= 0) {
        apply();
        continue;
      }
      replica.status = 'InProgress';
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        apply();
        this.settleIdle();
      }, lagMs);
      this.pending.set(timer, apply);
    }
  }

  private settleIdle(): void {
    if (this.pending.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function primaryReplicas(secret: SecretRecord): Map<string, ReplicaState> {
  if (secret.replicas === undefined) (secret as { replicas?: Map<string, ReplicaState> }).replicas = new Map();
  return secret.replicas!;
}

interface ReplicatedData {
  readonly description: string | undefined;
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly versions: readonly SecretVersion[];
  readonly lastChangedMs: number;
}

function copyData(secret: SecretRecord): ReplicatedData {
  return {
    description: secret.description,
    tags: [...secret.tags],
    versions: [...secret.versions.values()].map((v) => ({ versionId: v.versionId, payload: { ...v.payload }, createdMs: v.createdMs, stages: new Set(v.stages) })),
    lastChangedMs: secret.lastChangedMs,
  };
}

function applyData(target: SecretRecord, data: ReplicatedData): void {
  if (data.description === undefined) delete target.description;
  else target.description = data.description;
  target.tags.clear();
  for (const [key, value] of data.tags) target.tags.set(key, value);
  target.versions.clear();
  for (const version of data.versions) target.versions.set(version.versionId, { ...version, payload: { ...version.payload }, stages: new Set(version.stages) });
  target.lastChangedMs = data.lastChangedMs;
}

/** What a replica copies, as one string to compare (kept in memory only, never answered). */
function fingerprint(secret: SecretRecord): string {
  return JSON.stringify([
    secret.description ?? null,
    [...secret.tags],
    [...secret.versions.values()].map((v) => [v.versionId, v.payload.secretString ?? null, v.payload.secretBinary ?? null, [...v.stages]]),
  ]);
}
