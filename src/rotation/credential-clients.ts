/**
 * The connections a credential rotation opens, as ports: the composition roots (the CLI's bin,
 * the Lambda handler, a test) build the real ones with node-postgres and ioredis, bounded in time.
 * A rotation step opens what it needs, uses it for a few statements and closes it.
 */

/** A PostgreSQL session (node-postgres's Client has this shape). */
export interface SqlClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ readonly rows: readonly Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/** Makes an unconnected PostgreSQL client for a connection URL (which carries the credentials). */
export type SqlClientFactory = (url: string) => SqlClient;

/** A Redis connection (ioredis's Redis with `lazyConnect` has this shape). */
export interface RedisClient {
  connect(): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  disconnect(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Makes an unconnected Redis client for a REDIS_URL (which carries the user and password). */
export type RedisClientFactory = (url: string) => RedisClient;

export { driverErrorCode } from '../engine/index.js';

/** Opens a PostgreSQL session, runs `fn` and closes it whatever happens. */
export async function withSql<T>(factory: SqlClientFactory, url: string, fn: (client: SqlClient) => Promise<T>): Promise<T> {
  const client = factory(url);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Opens a Redis connection, runs `fn` and closes it whatever happens. */
export async function withRedis<T>(factory: RedisClientFactory, url: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
  const client = factory(url);
  // ioredis rejects a refused login with "Connection is closed" and reports why (WRONGPASS) as an event.
  let reason: Error | undefined;
  client.on('error', (err) => (reason ??= err));
  try {
    try {
      await client.connect();
    } catch (err) {
      throw reason ?? err;
    }
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** Both factories, as a composition root hands them to the credential modules. */
export interface CredentialClients {
  readonly sql: SqlClientFactory;
  readonly redis: RedisClientFactory;
}
