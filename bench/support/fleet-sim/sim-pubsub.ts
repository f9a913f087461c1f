import type { Clock } from '../../../src/engine/clock.js';

type Listener = (...args: string[]) => void;

/** One instance's subscriber connection, as much of ioredis as the refresh broadcast uses. */
export class SimSubscriber {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly hub: SimPubSub) {}

  async subscribe(channel: string): Promise<number> {
    this.hub.join(channel, this);
    return 1;
  }

  async unsubscribe(channel: string): Promise<number> {
    this.hub.leave(channel, this);
    return 0;
  }

  on(event: string, fn: Listener): this {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return this;
  }

  off(event: string, fn: Listener): this {
    this.listeners.get(event)?.delete(fn);
    return this;
  }

  emit(event: string, ...args: string[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}

/**
 * Redis pub/sub for the simulation: PUBLISH reaches every subscriber of the channel after
 * `deliveryMs` (and answers how many), PUBSUB NUMSUB counts them, as Redis does.
 */
export class SimPubSub {
  private readonly channels = new Map<string, Set<SimSubscriber>>();

  constructor(
    private readonly clock: Clock,
    private readonly deliveryMs = 1,
  ) {}

  join(channel: string, s: SimSubscriber): void {
    let set = this.channels.get(channel);
    if (set === undefined) this.channels.set(channel, (set = new Set()));
    set.add(s);
  }

  leave(channel: string, s: SimSubscriber): void {
    this.channels.get(channel)?.delete(s);
  }

  subscriber(): SimSubscriber {
    return new SimSubscriber(this);
  }

  /** A command connection: publish and PUBSUB NUMSUB. */
  readonly commands = {
    publish: async (channel: string, message: string): Promise<number> => {
      const receivers = [...(this.channels.get(channel) ?? [])];
      this.clock.setTimeout(() => {
        for (const s of receivers) s.emit('message', channel, message);
      }, this.deliveryMs);
      return receivers.length;
    },
    pubsub: async (subcommand: string, channel: string): Promise<unknown[]> => {
      if (subcommand !== 'NUMSUB') throw new Error(`SimPubSub: PUBSUB ${subcommand} is not simulated`);
      return [channel, this.channels.get(channel)?.size ?? 0];
    },
  };
}
