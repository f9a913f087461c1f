import type { Scheduler } from 'fast-check';
import type { CredentialClients, RedisClient, SqlClient } from '../../../src/rotation/credential-clients.js';

/**
 * Actors run together under one fc.scheduler, their calls to the outside world (Secrets Manager,
 * and the SQL statements, logins and Redis commands of their credential clients) released one at
 * a time in the order the scheduler draws.
 *
 * A call is released only once every actor still running waits at a call of its own (or has
 * settled): between two releases exactly one actor runs, so each call lands whole before the next
 * is chosen, and the choice never depends on which actor's I/O happened to come back first. The
 * calls waiting are handed to the scheduler in the order the actors were started, so the
 * scheduler's draws (its seed and path) name the same call on every replay.
 *
 * A SQL transaction is one call: its BEGIN waits for its turn, and the statements after it run
 * on until COMMIT or ROLLBACK. So no actor holds a lock while it waits for its turn, and no call
 * in flight can wait on one: the next release always comes, without a timer that would race the
 * machine's speed.
 *
 * Actors not started here (the rotation function behind RotateSecret) run free, as before.
 */
/** What an actor sends through: each call waits for its turn, then runs. */
export interface Turns {
  call<T>(label: string, run: () => Promise<T>): Promise<T>;
}

interface Arrival {
  readonly label: string;
  readonly go: () => void;
}

class Actor implements Turns {
  /** Calls arrived and not yet handed to the scheduler. */
  readonly arrived: Arrival[] = [];
  /** Calls waiting (arrived or handed to the scheduler, not released). */
  waiting = 0;
  running = 0;
  settled = false;

  constructor(
    private readonly interleaving: Interleaving,
    readonly name: string,
  ) {}

  /** Blocked on the scheduler and nothing else of it in flight. */
  get ready(): boolean {
    return this.waiting > 0 && this.running === 0;
  }

  async call<T>(label: string, run: () => Promise<T>): Promise<T> {
    await new Promise<void>((go) => {
      this.waiting++;
      this.arrived.push({ label, go });
      this.interleaving.changed();
    });
    this.running++;
    try {
      return await run();
    } finally {
      this.running--;
      this.interleaving.changed();
    }
  }
}

export class Interleaving {
  private readonly actors: Actor[] = [];
  private version = 0;
  private seen = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly scheduler: Scheduler) {}

  /** Starts an actor: `work` sends every call it makes through `turns`. */
  start<T>(work: (turns: Turns) => Promise<T>): Promise<T> {
    const actor = new Actor(this, `#${this.actors.length + 1}`);
    this.actors.push(actor);
    return work(actor).finally(() => {
      actor.settled = true;
      this.changed();
    });
  }

  changed(): void {
    this.version++;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Releases the actors' calls one at a time, in the order the scheduler draws, until `all` settles. */
  async until<T>(all: Promise<T>): Promise<T> {
    let settled = false;
    const done = all.finally(() => {
      settled = true;
      this.changed();
    });
    done.catch(() => {});
    while (!settled) {
      await this.nextChange();
      // Whatever the change set off within this turn of the event loop (an actor going on to its next call) has run.
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) break;
      if (!this.actors.every((a) => a.settled || a.ready)) continue;
      this.handOver();
      if (this.scheduler.count() > 0) await this.scheduler.waitOne();
    }
    return done;
  }

  /** Resolves on the next change (at once if one came since the last look). */
  private nextChange(): Promise<void> {
    if (this.version !== this.seen) {
      this.seen = this.version;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.seen = this.version;
        resolve();
      };
    });
  }

  /** The calls arrived since the last release go to the scheduler, in the order the actors were started. */
  private handOver(): void {
    for (const actor of this.actors) {
      for (const { label, go } of actor.arrived.splice(0)) {
        void this.scheduler.schedule(Promise.resolve(), `${actor.name} ${label}`).then(() => {
          actor.waiting--;
          go();
        });
      }
    }
  }
}

/** The first words of a statement (never its literals: ALTER ROLE carries a password verifier). */
function statementOf(text: string): string {
  return text.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** The user a connection URL logs in as (never its password). */
function userOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || 'default';
  } catch {
    return '?';
  }
}

/**
 * The credential clients an actor's rotation modules get: every login (connect), SQL statement
 * and Redis command waits for its turn; closing a connection does not.
 */
export function scheduledCredentialClients(clients: CredentialClients, turns: Turns, who: string): CredentialClients {
  return {
    sql: (url) => {
      const client = clients.sql(url);
      // Inside a transaction, statements run on: the transaction took its turn at BEGIN (see Interleaving).
      let inTransaction = false;
      const scheduled: SqlClient = {
        connect: () => turns.call(`${who}: PostgreSQL login as ${userOf(url)}`, () => client.connect()),
        query: async (text, values) => {
          const statement = statementOf(text).toUpperCase();
          const ends = /^(COMMIT|ROLLBACK)\b/.test(statement);
          if (inTransaction || ends) {
            if (ends) inTransaction = false;
            return client.query(text, values);
          }
          const result = await turns.call(`${who}: SQL ${statementOf(text)}`, () => client.query(text, values));
          if (/^BEGIN\b/.test(statement)) inTransaction = true;
          return result;
        },
        end: () => client.end(),
      };
      return scheduled;
    },
    redis: (url) => {
      const client = clients.redis(url);
      const scheduled: RedisClient = {
        connect: () => turns.call(`${who}: Redis login as ${userOf(url)}`, () => client.connect()),
        call: (command, ...args) => turns.call(`${who}: Redis ${[command, ...args.slice(0, /^(acl|config)$/i.test(command) ? 1 : 0)].join(' ')}`, () => client.call(command, ...args)),
        publish: (channel, message) => turns.call(`${who}: Redis PUBLISH`, () => client.publish(channel, message)),
        disconnect: () => client.disconnect(),
        on: (event, listener) => client.on(event, listener),
      };
      return scheduled;
    },
  };
}
