import { hostname } from 'node:os';
import { addressForms, unlockAddress } from '../../admin-lockout/unlock.js';
import { driverErrorCode } from '../../rotation/index.js';
import { withRedis } from '../../rotation/credential-clients.js';
import type { CommandContext } from '../command-context.js';
import { CliError, EXIT_CODES } from '../errors.js';

/**
 * `secrets unlock ADDRESS --redis-url URL`: ends an admin lockout on every instance at once. One
 * Redis script deletes the address's count and publishes a notice on which every instance
 * forgets what its memory holds for it (counted while Redis was down) and logs `admin.unlocked`
 * naming who unlocked it. Prints what was cleared; never the URL, which carries the password.
 */
export async function unlockCommand(ctx: CommandContext): Promise<number> {
  const { deps, options, args } = ctx;
  const [address, ...extra] = args;
  if (address === undefined || extra.length > 0) throw new CliError('USAGE', 'unlock takes exactly one client address (as in the admin.lockout log line)');
  if (addressForms(address) === undefined) throw new CliError('USAGE', 'unlock takes an IP address (IPv4 or IPv6)');
  const url = options['redis-url'] ?? deps.env.REDIS_URL;
  if (url === undefined || url.trim() === '') throw new CliError('USAGE', 'unlock needs --redis-url URL (or REDIS_URL): the Redis the service instances share');
  const by = `${deps.env.USER ?? deps.env.LOGNAME ?? deps.env.USERNAME ?? 'unknown'}@${hostname()}`;
  let result;
  try {
    result = await withRedis(deps.credentialClients.redis, url, (redis) => unlockAddress(redis, { address, by, now: deps.now }));
  } catch (err) {
    throw new CliError('FAILED', `Could not unlock: Redis answered ${driverErrorCode(err)} (nothing was changed)`, { cause: err });
  }
  const was = result.failures > 0 ? `${result.failures} failed token(s), ${Math.ceil(result.remainingMs / 1000)} s of the window left` : 'no count in Redis';
  ctx.out(
    { ...result, by },
    `Unlocked ${result.address} (${was}); ${result.instancesNotified} instance connection(s) told to forget it. Unlocked by ${by}.\n`,
  );
  return EXIT_CODES.OK;
}
