import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Catalog, classifyAwsError } from '../../engine/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES, fromAwsError } from '../errors.js';

const DAY_MS = 86_400_000;

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
        let rotation: SecretState['rotation'] = 'n/a';
        if (everyDays !== null && changed !== undefined) {
          const ageDays = (now - changed.getTime()) / DAY_MS;
          rotation = ageDays > everyDays ? 'overdue' : ageDays > everyDays - 14 ? 'due' : 'ok';
        }
        return {
          ...base,
          exists: true,
          versionId: current,
          lastChanged: changed?.toISOString() ?? null,
          rotation,
          rotationEnabled: d.RotationEnabled === true,
          nextRotationDate: d.NextRotationDate?.toISOString() ?? null,
        };
      } catch (err) {
        if (classifyAwsError(err).code !== 'ResourceNotFoundException') throw fromAwsError(err, awsId);
        return { ...base, exists: false, versionId: null, lastChanged: null, rotation: 'n/a', rotationEnabled: false, nextRotationDate: null };
      }
    }),
  );
}

/** `secrets status`. */
export async function statusCommand(ctx: CommandContext): Promise<number> {
  const { deps, g, catalog, region, out } = ctx;
  const states = await secretStates(deps.secretsManager(g.aws), catalog, deps.now());
  const rows = states.map((s) =>
    [
      s.name.padEnd(26),
      (s.exists ? 'yes' : 'MISSING').padEnd(8),
      (s.versionId ?? '-').padEnd(38),
      (s.lastChanged ?? '-').padEnd(25),
      `${s.schedule} (${s.rotation})`.padEnd(34),
      s.rotationEnabled ? `on, next ${s.nextRotationDate?.slice(0, 10) ?? '-'}` : 'off',
    ].join(' '),
  );
  const header = ['SECRET'.padEnd(26), 'EXISTS'.padEnd(8), 'VERSION'.padEnd(38), 'LAST CHANGED'.padEnd(25), 'ROTATION'.padEnd(34), 'AUTO-ROTATION'].join(' ');
  out({ region, prefix: catalog.prefix, secrets: states }, `Region: ${region}  Prefix: ${catalog.prefix}\n${header}\n${rows.join('\n')}\n`);
  return states.every((s) => s.exists || !catalog.entry(s.name)!.spec.required) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
