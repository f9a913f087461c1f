import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RedisClientFactory } from './credential-clients.js';
import { withRedis } from './credential-clients.js';
import { RotationError } from './errors.js';
import { AWSCURRENT } from './version-stages.js';
import { readValue } from './version-value.js';
import { REFRESH_CHANNEL, refreshChannel, refreshNoticeMessage, type Catalog } from '../engine/index.js';

export { REFRESH_CHANNEL };

export interface RefreshNoticeInput {
  readonly client: SecretsManagerClient;
  /** REDIS_URL's secret id: the notice goes out with the credentials instances use now. */
  readonly redisSecretId: string;
  readonly redis: RedisClientFactory;
  /** Who sends it (`secrets-cli`, `rotation-function`), for the instances' logs. */
  readonly origin: string;
  readonly reason: string;
  readonly catalog: Pick<Catalog, 'entry' | 'prefix'>;
  /** The rotated secret's catalog name and its new version: instances re-read only that secret. */
  readonly name: string;
  readonly versionId: string;
  readonly now: () => number;
}

/**
 * The Redis push after a rotation: one notice on the AWS-mode refresh channel of the catalog's
 * prefix (refreshChannel), in the service's format
 * (`{ v, origin, reason, names, versions, at }`, never a value), so every instance refreshes within about a
 * second instead of at its next scheduled refresh. Resolves how many instances received it.
 */
export async function publishRefreshNotice(input: RefreshNoticeInput): Promise<number> {
  const { client, redisSecretId, redis, origin, reason, catalog, name, versionId, now } = input;
  const url = await readValue(client, redisSecretId, { stage: AWSCURRENT });
  if (url === undefined) throw new RotationError('ROTATION_MISCONFIGURED', `${redisSecretId} has no AWSCURRENT value to publish a refresh notice with`);
  const notice = refreshNoticeMessage(catalog, { origin, reason, names: [name], versions: { [name]: versionId }, at: new Date(now()).toISOString() });
  return withRedis(redis, url.value, (c) => c.publish(refreshChannel(catalog, 'aws'), notice));
}
