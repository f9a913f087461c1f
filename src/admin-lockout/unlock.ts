/**
 * The admin lockout's shared contract, used by the service (which counts and obeys unlock
 * notices) and the CLI (`secrets unlock`), which must not import each other: the Redis key of a
 * client address's count, the channel of unlock notices, the notice's format and the unlock itself.
 */
import { isIP, SocketAddress } from 'node:net';

/** `admin-auth-failures:<address>`: a hash holding the window's count (`n`) and its reservations. */
export const ADMIN_LOCKOUT_KEY_PREFIX = 'admin-auth-failures:';

/** Every instance subscribes; a notice makes it forget what its memory holds for the address. */
export const UNLOCK_CHANNEL = 'admin-auth:unlock';

const MAX_NOTICE_BYTES = 1024;

export interface UnlockNotice {
  readonly v: 1;
  /** The client address as the service sees it (`request.ip`). */
  readonly address: string;
  /** Who ran the unlock (`user@host`), for every instance's `admin.unlocked` line. */
  readonly by: string;
  readonly at: string;
  /** The key prefix the unlock cleared, so instances with another prefix (tests) ignore it. */
  readonly keyPrefix: string;
}

/**
 * The address in the form a socket reports it (RFC 5952: lower case, zeros compressed, an
 * IPv4-mapped address with its IPv4 part dotted), so every spelling of one client is one key:
 * an address a proxy wrote in X-Forwarded-For, or one an operator typed, may be spelled any way.
 * Undefined when it is not an IP address. A zone (`%eth0`) is kept: it names another interface.
 */
export function canonicalAddress(address: string): string | undefined {
  const a = address.trim();
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return undefined;
  if (a.includes('%')) return a.toLowerCase();
  return new SocketAddress({ address: a, family: 'ipv6' }).address;
}

/**
 * The forms one client address takes: a dual-stack listener sees an IPv4 client as
 * `::ffff:a.b.c.d`, so unlocking `a.b.c.d` clears both. Undefined when it is not an IP address.
 */
export function addressForms(address: string): string[] | undefined {
  const a = canonicalAddress(address);
  if (a === undefined) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a)?.[1] ?? (isIP(a) === 4 ? a : undefined);
  return mapped !== undefined ? [mapped, `::ffff:${mapped}`] : [a];
}

export function unlockNoticeMessage(notice: Omit<UnlockNotice, 'v'>): string {
  return JSON.stringify({ v: 1, ...notice });
}

/** The notice, or undefined for anything else (junk on the channel is ignored, never trusted). */
export function parseUnlockNotice(message: string): UnlockNotice | undefined {
  if (message.length > MAX_NOTICE_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  const n = parsed as Partial<Record<keyof UnlockNotice, unknown>> | null;
  if (n === null || typeof n !== 'object' || n.v !== 1) return undefined;
  if (typeof n.address !== 'string' || addressForms(n.address) === undefined) return undefined;
  if (typeof n.by !== 'string' || typeof n.at !== 'string' || typeof n.keyPrefix !== 'string') return undefined;
  return { v: 1, address: n.address, by: n.by.slice(0, 200), at: n.at.slice(0, 40), keyPrefix: n.keyPrefix };
}

// One script: the counts of every form of the address are read and deleted, and the notice is
// published, in one atomic step (no instance can count between the delete and the notice).
const UNLOCK_SCRIPT = `local failures = 0
local pttl = -2
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key).ok
  local n = 0
  if kind == 'hash' then n = tonumber(redis.call('HGET', key, 'n') or '0') or 0
  elseif kind == 'string' then n = tonumber(redis.call('GET', key) or '0') or 0 end
  if n > failures then failures = n end
  local t = redis.call('PTTL', key)
  if t > pttl then pttl = t end
  redis.call('DEL', key)
end
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2])
return {failures, pttl, receivers}`;

export interface UnlockResult {
  readonly address: string;
  /** Failures counted in Redis for the address when it was cleared (0: none). */
  readonly failures: number;
  /** What was left of its window (0 when there was no count). */
  readonly remainingMs: number;
  /** Instances that received the notice (Redis's PUBLISH count: subscribed connections). */
  readonly instancesNotified: number;
}

/**
 * Ends a client address's lockout everywhere: deletes its count in Redis and tells every instance
 * to forget what it holds in memory (counted while Redis was down). Rejects with the driver's
 * error when Redis cannot be reached.
 */
export async function unlockAddress(
  redis: { call(command: string, ...args: string[]): Promise<unknown> },
  input: { readonly address: string; readonly by: string; readonly now: () => number; readonly keyPrefix?: string },
): Promise<UnlockResult> {
  const keyPrefix = input.keyPrefix ?? ADMIN_LOCKOUT_KEY_PREFIX;
  const forms = addressForms(input.address);
  if (forms === undefined) throw new TypeError('not an IP address');
  const notice = unlockNoticeMessage({ address: forms[0]!, by: input.by, at: new Date(input.now()).toISOString(), keyPrefix });
  const reply = (await redis.call('EVAL', UNLOCK_SCRIPT, String(forms.length), ...forms.map((f) => keyPrefix + f), UNLOCK_CHANNEL, notice)) as unknown[];
  const [failures = 0, pttl = -2, receivers = 0] = reply.map(Number);
  return { address: forms[0]!, failures, remainingMs: Math.max(0, pttl), instancesNotified: receivers };
}
