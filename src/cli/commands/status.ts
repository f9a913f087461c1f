import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Catalog, classifyAwsError, rotationDue } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, fromAwsError } from '../errors.js';
import { replicaViews, type ReplicaView } from '../replication.js';
import { formatTable } from '../table.js';

export interface SecretState {
  readonly name: string;
  readonly secretId: string;
  readonly exists: boolean;
  readonly versionId: string | null;
  readonly lastChanged: string | null;
  readonly schedule: string;
  readonly rotateEveryDays: number | null;
  /** 'ok', 'due' (within 14 days), 'overdue', or 'n/a' for secrets without a period. */
  readonly rotation: 'ok' | 'due' | 'overdue' | 'n/a';
  /** Secrets Manager rotates it on a schedule (DescribeSecret's RotationEnabled). */
  readonly rotationEnabled: boolean;
  /** When Secrets Manager rotates it next (DescribeSecret's NextRotationDate), if scheduled. */
  readonly nextRotationDate: string | null;
  /** Its replicas, one per region, with Secrets Manager's replication status (empty: none). */
  readonly replication: readonly ReplicaView[];
  /** Set when the region asked holds a replica: the primary's region. */
  readonly primaryRegion?: string;
}

/** `secrets status`: existence, current version and rotation state per catalog secret. Never values. */
export async function secretStates(client: SecretsManagerClient, catalog: Catalog, now: number): Promise<SecretState[]> {
  return Promise.all(
    catalog.entries.map(async ({ name, awsId, spec }): Promise<SecretState> => {
      const everyDays = spec.rotation?.everyDays ?? null;
      const base = { name, secretId: awsId, schedule: spec.rotation?.schedule ?? '-', rotateEveryDays: everyDays };
      try {
        const d = await client.send(new DescribeSecretCommand({ SecretId: awsId }));
        const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0] ?? null;
        const changed = d.LastChangedDate ?? d.CreatedDate;
        // The one rule for "rotation due", shared with the service's status, log line and metrics.
        const rotation = rotationDue(spec.rotation, changed?.toISOString() ?? null, now).state;
        return {
          ...base,
          exists: true,
          versionId: current,
          lastChanged: changed?.toISOString() ?? null,
          rotation,
          rotationEnabled: d.RotationEnabled === true,
          nextRotationDate: d.NextRotationDate?.toISOString() ?? null,
          replication: replicaViews(d),
          ...(d.PrimaryRegion !== undefined && { primaryRegion: d.PrimaryRegion }),
        };
      } catch (err) {
        if (classifyAwsError(err).code !== 'ResourceNotFoundException') throw fromAwsError(err, awsId);
        return { ...base, exists: false, versionId: null, lastChanged: null, rotation: 'n/a', rotationEnabled: false, nextRotationDate: null, replication: [] };
      }
    }),
  );
}

/** `secrets status`. */
export async function statusCommand(ctx: CommandContext): Promise<number> {
  const { deps, globals, catalog, region, out, style } = ctx;
  const states = await secretStates(deps.secretsManager(globals.aws), catalog, deps.now());
  const rotationStyle = { ok: style.ok, due: style.warn, overdue: style.bad, 'n/a': style.dim } as const;
  const table = formatTable(
    ['SECRET', 'EXISTS', 'VERSION', 'LAST CHANGED', 'ROTATION', 'AUTO-ROTATION', 'REPLICATION'],
    states.map((s) => [
      s.name,
      s.exists ? 'yes' : { text: catalog.entry(s.name)!.spec.required ? 'MISSING' : 'no', style: catalog.entry(s.name)!.spec.required ? style.bad : style.dim },
      s.versionId ?? '-',
      s.lastChanged ?? '-',
      { text: `${s.schedule} (${s.rotation})`, style: rotationStyle[s.rotation] },
      s.rotationEnabled ? `on, next ${s.nextRotationDate?.slice(0, 10) ?? '-'}` : { text: 'off', style: style.dim },
      s.primaryRegion !== undefined
        ? { text: `replica of ${s.primaryRegion}`, style: style.warn }
        : s.replication.length === 0
          ? { text: '-', style: style.dim }
          : {
              text: s.replication.map((r) => `${r.region} ${r.status}`).join(', '),
              style: s.replication.every((r) => r.status === 'InSync') ? style.ok : s.replication.some((r) => r.status === 'Failed') ? style.bad : style.warn,
            },
    ]),
  );
  out({ region, prefix: catalog.prefix, secrets: states }, `Region: ${region}  Prefix: ${catalog.prefix}\n${table}`);
  return states.every((s) => s.exists || !catalog.entry(s.name)!.spec.required) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
