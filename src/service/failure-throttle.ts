import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { addressForms, ADMIN_LOCKOUT_KEY_PREFIX } from '../admin-lockout/unlock.js';
import type { Clock, Logger } from '../engine/index.js';
import { DeadlineExceededError, driverErrorCode, silentLogger, systemClock, withDeadline } from '../engine/index.js';

export interface ThrottleDecision {
  readonly blocked: boolean;
  /** Whole seconds until the window ends; 0 when not blocked. */
  readonly retryAfterSeconds: number;
}

/** The throttle's answer for one compared credential, decided before its outcome is revealed. */
export interface Decision extends ThrottleDecision {
  /** Wrong credentials counted for this client in the current window (this one included when counted). */
  readonly attempts: number;
  /** Wrong credentials left in the window: 0 after a counted one means the client is now locked out. */
  readonly remaining: number;
  /** Who decided: the shared Redis, or this instance's memory while Redis did not answer. */
  readonly store: 'redis' | 'memory';
  /** When the window ends (ms since the epoch). */
  readonly windowEndsAtMs: number;
}

/**
 * Whether a compared credential was right or wrong. The caller compares first (in constant time,
 * in process) and reveals nothing until the throttle has decided: only wrong ones are counted.
 */
export type Credential = 'right' | 'wrong';

/**
 * Counts wrong credentials per client and says when a client must wait. The decision and the
 * count are one atomic step in Redis, so of any number of concurrent wrong credentials at most
 * the limit are answered as wrong; the rest, and every right one once the limit is reached, wait.
 */
export interface FailureThrottle {
  /** `blocked` means: answer 429, revealing nothing of the comparison. A wrong credential not blocked was counted. */
  decide(client: string, credential: Credential): Promise<Decision>;
  /** Whether the client is locked out, counting nothing (for requests that present no credential). */
  peek(client: string): Promise<ThrottleDecision>;
  /** Forgets what this instance holds for a client (an unlock): its memory count and anything owed to Redis. */
  forget(client: string): boolean;
  /** The Redis key holding a client's count. */
  keyFor(client: string): string;
}

export interface FailureThrottleOptions {
  /** The shared counter store; counts hold across instances while it answers. */
  readonly redis: Pick<Redis, 'eval'>;
  readonly maxFailures?: number;
  readonly windowMs?: number;
  /**
   * One slice of waiting for Redis: what a request without a credential, a client memory already
   * knows to be locked out, and each give-back or settlement waits before memory answers.
   */
  readonly redisTimeoutMs?: number;
  /**
   * How long a compared credential, right or wrong alike (so the wait tells nothing), waits for
   * Redis before memory decides. Longer than `redisTimeoutMs` on purpose: while Redis answers
   * within it, only Redis grants wrong guesses, so the fleet's limit holds however slow Redis is;
   * past it Redis counts as down. A right token is never refused for Redis's sake: at worst it
   * waits this long and memory answers.
   */
  readonly guessTimeoutMs?: number;
  readonly keyPrefix?: string;
  /** Bound on the in-process table, so a flood of addresses cannot grow memory without limit. */
  readonly maxLocalClients?: number;
  /** Bound on the calls owed to Redis (give-backs and settlements) while it does not answer. */
  readonly maxOwed?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Reservation ids, unique per wrong credential (random UUIDs). */
  readonly newId?: () => string;
}

export const DEFAULT_THROTTLE_KEY_PREFIX = ADMIN_LOCKOUT_KEY_PREFIX;

// The key is a hash: `n` is the window's count, and each counted wrong credential has a field
// named by its reservation id, so that a script run twice (ioredis resends what was in flight
// when a connection dropped; the throttle re-sends after a client-side timeout) counts once,
// and a give-back removes exactly that reservation or nothing. At most the limit of ids exist
// (plus those settled after an outage). A counter left by an earlier version (a string) is
// carried over first.
const UPGRADE = `if redis.call('TYPE', KEYS[1]).ok == 'string' then
  local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
  local oldTtl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  if old > 0 then
    redis.call('HSET', KEYS[1], 'n', old)
    if oldTtl > 0 then redis.call('PEXPIRE', KEYS[1], oldTtl) end
  end
end
`;
// The window is fixed from the first counted failure: the expiry is set only when it has none.
const WINDOW = `local ttl = redis.call('PTTL', KEYS[1])
if n > 0 and ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
`;
// Every script reads the count and, for the ids it is given after ARGV[5] (ARGV[5] of them this
// instance answered from memory, then those of its wrong credentials still waiting for an
// answer), which are here: so every count an instance learns comes with which of its own
// unknown reservations that count includes, and none is counted twice or taken for another's.
const PRESENCE = `local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') or 0
local present = {}
local absent = 0
local unsettled = tonumber(ARGV[5]) or 0
for i = 6, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then table.insert(present, ARGV[i])
  elseif i <= 5 + unsettled then absent = absent + 1 end
end
`;
// ARGV: windowMs, limit, '1' for a wrong credential (counted) or '0' (only looked at), reservation
// id, u, then u ids of wrong credentials this instance answered while Redis was away and has not
// settled yet (those not here yet use the same budget; those here, a late script, count once),
// then the ids of this instance's other wrong credentials still waiting for an answer.
// Returns the count, the window left, whether this one was counted, and which of those ids are here.
const DECIDE_SCRIPT = `${UPGRADE}${PRESENCE}local counted = 0
if ARGV[3] == '1' then
  if redis.call('HEXISTS', KEYS[1], ARGV[4]) == 1 then
    counted = 1
  elseif n + absent < tonumber(ARGV[2]) then
    redis.call('HSET', KEYS[1], ARGV[4], '1')
    n = redis.call('HINCRBY', KEYS[1], 'n', 1)
    counted = 1
  end
end
${WINDOW}return {n, ttl, counted, unpack(present)}`;
// A wrong credential answered from memory while Redis did not answer: it was revealed, so Redis
// counts it (once, past the limit if need be) when it answers again.
const SETTLE_SCRIPT = `${UPGRADE}${PRESENCE}if redis.call('HEXISTS', KEYS[1], ARGV[4]) == 0 then
  redis.call('HSET', KEYS[1], ARGV[4], '1')
  n = redis.call('HINCRBY', KEYS[1], 'n', 1)
end
${WINDOW}return {n, ttl, 1, unpack(present)}`;
// A reservation that may have reached Redis but whose credential was refused from memory (429,
// nothing revealed): taken back if it is there. A count back at zero leaves no key behind.
const GIVE_BACK_SCRIPT = `${UPGRADE}if redis.call('HDEL', KEYS[1], ARGV[4]) == 1 then
  local left = redis.call('HINCRBY', KEYS[1], 'n', -1)
  if left <= 0 then redis.call('DEL', KEYS[1]) end
end
${PRESENCE}${WINDOW}return {n, ttl, 0, unpack(present)}`;

/** The scripts, for a model test's in-process stand-in for Redis (test/service/failure-throttle.model.test.ts). */
export const THROTTLE_SCRIPTS = { decide: DECIDE_SCRIPT, settle: SETTLE_SCRIPT, giveBack: GIVE_BACK_SCRIPT } as const;

interface Known {
  /** The client's count in Redis at its last reply. */
  redis: number;
  /** Ids of wrong credentials this instance answered from memory that Redis has not (yet) counted. */
  readonly unsettled: Set<string>;
  resetAtMs: number;
}

interface Reply {
  readonly count: number;
  readonly pttl: number;
  readonly counted: number;
  /** Which of the ids the script was given Redis holds. */
  readonly present: readonly string[];
}

interface Owed {
  readonly script: typeof SETTLE_SCRIPT | typeof GIVE_BACK_SCRIPT;
  readonly client: string;
  readonly id: string;
  readonly untilMs: number;
}

/**
 * Brute-force throttling for credential checks: `maxFailures` wrong credentials within `windowMs`
 * from one client, and then every credential from it, right ones included, waits (429 +
 * Retry-After) until the window ends, so a locked-out client learns nothing from its guesses.
 *
 * Decide before reveal. The caller compares the credential first (constant time, in process,
 * nothing sent yet) and asks one atomic Redis script: a wrong credential is counted there if and
 * only if it is granted, so concurrency cannot multiply the limit; a right one is only looked at.
 * Right credentials therefore never hold or leave a count in Redis, whatever Redis does (a pause,
 * a timeout, a restart, a late reply), and the owner's own concurrent requests never use the budget.
 *
 * While Redis does not answer (down, or silent past the deadlines) this instance's memory decides
 * over what it knows: the counts of Redis's last replies for the client plus the wrong
 * credentials it answered itself. So memory is never a second budget on top of Redis's: it can
 * only grant what Redis's last word left. Those memory-answered ones are settled into Redis once
 * it answers again, and a reservation that may have reached Redis for a credential memory then
 * refused is given back there (by its id, so only if it is there).
 *
 * Hand-written rather than rate-limiter-flexible: its insurance limiter is a second, independent
 * budget (the defect this design removes), its reward() is an anonymous decrement that cannot
 * tell whether a timed-out consume ever reached Redis, it counts every request before comparing
 * (so right tokens hold slots), and it reads the system clock where this service injects time.
 */
export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const {
    redis,
    maxFailures = 10,
    windowMs = 10 * 60_000,
    redisTimeoutMs = 250,
    guessTimeoutMs = 2_000,
    keyPrefix = DEFAULT_THROTTLE_KEY_PREFIX,
    maxLocalClients = 10_000,
    maxOwed = 10_000,
    clock = systemClock,
    logger = silentLogger,
    newId = randomUUID,
  } = options;
  const known = new Map<string, Known>();
  const owed: Owed[] = [];
  /** Per client, the ids of wrong credentials waiting for Redis's answer (their outcome unknown). */
  const waiting = new Map<string, Set<string>>();
  /** Ids among those that a later reply showed counted in Redis: Redis granted them. */
  const countedInRedis = new Set<string>();
  let paying = false;
  let redisDown = false;

  function live(client: string): Known | undefined {
    const k = known.get(client);
    if (k !== undefined && k.resetAtMs <= clock.now()) {
      known.delete(client);
      return undefined;
    }
    return k;
  }

  /** Re-inserts (Map order is then least recently seen first) and keeps the table bounded. */
  function keep(client: string, k: Known): void {
    known.delete(client);
    known.set(client, k);
    if (known.size <= maxLocalClients) return;
    const now = clock.now();
    for (const [c, v] of known) if (v.resetAtMs <= now) known.delete(c);
    for (const c of known.keys()) {
      if (known.size <= maxLocalClients) break;
      known.delete(c);
    }
  }

  /** Redis's word on a client becomes what memory knows of it. */
  function learn(client: string, count: number, pttlMs: number): void {
    const k = live(client);
    const endsAtMs = clock.now() + Math.max(0, pttlMs);
    if (count <= 0 && (k === undefined || k.unsettled.size === 0)) {
      known.delete(client);
      return;
    }
    if (k === undefined) return keep(client, { redis: count, unsettled: new Set(), resetAtMs: endsAtMs });
    k.redis = Math.max(0, count);
    if (count > 0) k.resetAtMs = Math.max(k.resetAtMs, endsAtMs);
    keep(client, k);
  }

  async function send(script: string, client: string, args: (string | number)[], timeoutMs: number): Promise<Reply> {
    const reply = (await withDeadline(redis.eval(script, 1, keyPrefix + client, ...args), { timeoutMs, clock })) as unknown[];
    return answered(reply);
  }

  function answered(reply: unknown[]): Reply {
    if (redisDown) logger.info({ event: 'throttle.redis_recovered' }, 'Failure throttle is counting in Redis again');
    redisDown = false;
    const [count = 0, pttl = -2, counted = 0] = reply.slice(0, 3).map(Number);
    return { count, pttl, counted, present: reply.slice(3).map(String) };
  }

  /** The ids a script checks: those answered from memory and not settled, then the other ones still waiting. */
  function presenceArgs(client: string, except: string): (string | number)[] {
    const unsettled = [...(live(client)?.unsettled ?? [])];
    const others = [...(waiting.get(client) ?? [])].filter((w) => w !== except);
    return [unsettled.length, ...unsettled, ...others];
  }

  /** Ids Redis holds: counted there, so no longer only here; a waiting one was granted by Redis. */
  function notePresent(client: string, present: readonly string[]): void {
    for (const rid of present) {
      live(client)?.unsettled.delete(rid);
      if (waiting.get(client)?.has(rid) === true) countedInRedis.add(rid);
    }
  }

  function wentDown(err: unknown): void {
    if (!redisDown) {
      logger.warn(
        { event: 'throttle.redis_unavailable', code: driverErrorCode(err) },
        'Failure throttle cannot reach Redis; deciding from this instance\'s memory',
      );
    }
    redisDown = true;
  }

  function owe(item: Owed): void {
    owed.push(item);
    if (owed.length > maxOwed) owed.splice(0, owed.length - maxOwed);
  }

  /**
   * Pays what is owed to Redis, in order, after Redis has answered: on the same connection as
   * (and so after) any script ioredis re-sends from before a reconnect.
   */
  async function pay(): Promise<void> {
    if (paying || owed.length === 0) return;
    paying = true;
    try {
      while (owed.length > 0) {
        const item = owed[0]!;
        if (item.untilMs > clock.now()) {
          try {
            const { count, pttl, present } = await send(item.script, item.client, [windowMs, maxFailures, 1, item.id, ...presenceArgs(item.client, item.id)], redisTimeoutMs);
            if (item.script === SETTLE_SCRIPT) live(item.client)?.unsettled.delete(item.id);
            notePresent(item.client, present);
            learn(item.client, count, pttl);
          } catch (err) {
            wentDown(err);
            return;
          }
        }
        // The item may have been dropped meanwhile by forget(): remove it only if still first.
        if (owed[0] === item) owed.shift();
      }
    } finally {
      paying = false;
    }
  }

  function decision(blocked: boolean, resetAtMs: number): ThrottleDecision {
    if (!blocked) return { blocked: false, retryAfterSeconds: 0 };
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((resetAtMs - clock.now()) / 1000)) };
  }

  /**
   * Redis's decision, or undefined when it gave none in time. A wrong credential waits up to
   * `guessTimeoutMs` in slices of `redisTimeoutMs`, sending the same (idempotent) script again
   * only when the client gave up on the previous one; any other failure (disconnected) ends it.
   * A compared credential waits the same, right or wrong: were a right one answered from memory
   * sooner, a client Redis locked out (unknown to this memory) would get 200 for its right token
   * and 429 for wrong ones while Redis is slow, which tells a guesser which token is right. A
   * client that Redis's last word (or this instance's own answers) already locked out gets one
   * slice either way: memory refuses it right or wrong. `patient: false` (no credential, nothing
   * compared) gets one slice too.
   */
  async function ask(client: string, wrong: boolean, id: string, patient: boolean): Promise<Reply | undefined> {
    const known = live(client);
    const lockedOut = known !== undefined && known.redis + known.unsettled.size >= maxFailures;
    const slices = patient && !lockedOut ? Math.max(1, Math.ceil(guessTimeoutMs / redisTimeoutMs)) : 1;
    let inFlight: { reply: Promise<unknown>; failed: boolean } | undefined;
    for (let slice = 0; slice < slices; slice++) {
      if (inFlight === undefined || inFlight.failed) {
        // The ids as they are now, not as at the first send: a re-sent script runs after the
        // scripts of this instance's wrong credentials sent meanwhile, and its count holds them.
        const args = [windowMs, maxFailures, wrong ? 1 : 0, id, ...presenceArgs(client, id)];
        const reply = redis.eval(DECIDE_SCRIPT, 1, keyPrefix + client, ...args);
        const tracked = { reply, failed: false };
        reply.catch(() => (tracked.failed = true));
        inFlight = tracked;
      }
      try {
        return answered((await withDeadline(inFlight.reply, { timeoutMs: redisTimeoutMs, clock })) as unknown[]);
      } catch (err) {
        if (!isTimeout(err) || slice === slices - 1) {
          wentDown(err);
          return undefined;
        }
      }
    }
    return undefined;
  }

  async function decide(client: string, credential: Credential, patient = true): Promise<Decision> {
    const wrong = credential === 'wrong';
    const id = wrong ? newId() : '';
    if (!wrong) return decideWith(client, false, id, await ask(client, false, id, patient));
    const mine = waiting.get(client) ?? new Set<string>();
    waiting.set(client, mine.add(id));
    try {
      return decideWith(client, true, id, await ask(client, true, id, patient));
    } finally {
      mine.delete(id);
      if (mine.size === 0 && waiting.get(client) === mine) waiting.delete(client);
      countedInRedis.delete(id);
    }
  }

  function decideWith(client: string, wrong: boolean, id: string, reply: Reply | undefined): Decision {
    if (reply !== undefined) {
      const { count, pttl, counted, present } = reply;
      // Ids Redis holds already (their late script ran): counted there, no longer only here.
      notePresent(client, present);
      learn(client, count, pttl);
      void pay();
      // Redis's count plus what this instance answered while Redis was away and has not settled yet.
      const attempts = count + (live(client)?.unsettled.size ?? 0);
      const windowEndsAtMs = Math.max(clock.now() + Math.max(0, pttl), live(client)?.resetAtMs ?? 0);
      return {
        ...decision(wrong ? counted !== 1 : attempts >= maxFailures, windowEndsAtMs),
        attempts,
        remaining: Math.max(0, maxFailures - attempts),
        store: 'redis',
        windowEndsAtMs,
      };
    }
    // Synchronous from here: between the read and the write no other request can run.
    const k = live(client) ?? { redis: 0, unsettled: new Set<string>(), resetAtMs: clock.now() + windowMs };
    // A later reply showed this one's script ran and was granted: Redis counted it (within the
    // fleet's budget, and in the count memory now holds), so it is granted, not counted again.
    if (wrong && countedInRedis.has(id)) {
      const attempts = k.redis + k.unsettled.size;
      return { ...decision(false, k.resetAtMs), attempts, remaining: Math.max(0, maxFailures - attempts), store: 'redis', windowEndsAtMs: k.resetAtMs };
    }
    const blocked = k.redis + k.unsettled.size >= maxFailures;
    if (wrong) {
      if (blocked) {
        owe({ script: GIVE_BACK_SCRIPT, client, id, untilMs: k.resetAtMs });
      } else {
        k.unsettled.add(id);
        keep(client, k);
        owe({ script: SETTLE_SCRIPT, client, id, untilMs: k.resetAtMs });
      }
    }
    const attempts = k.redis + k.unsettled.size;
    return {
      ...decision(blocked, k.resetAtMs),
      attempts,
      remaining: Math.max(0, maxFailures - attempts),
      store: 'memory',
      windowEndsAtMs: k.resetAtMs,
    };
  }

  return {
    decide,
    async peek(client) {
      // Nothing was compared, so nothing to hide: Redis's quick word, else memory's.
      const { blocked, retryAfterSeconds } = await decide(client, 'right', false);
      return { blocked, retryAfterSeconds };
    },
    forget(client) {
      const forms = addressForms(client) ?? [client];
      let held = false;
      for (const form of forms) {
        held = known.delete(form) || held;
        for (let i = owed.length - 1; i >= 0; i--) if (owed[i]!.client === form) owed.splice(i, 1);
      }
      return held;
    },
    keyFor: (client) => keyPrefix + client,
  };
}

/** Our deadline, or ioredis's `commandTimeout` (its only sign is the message): Redis may still run the script. */
function isTimeout(err: unknown): boolean {
  return err instanceof DeadlineExceededError || (err instanceof Error && err.message === 'Command timed out');
}
