import { once } from 'node:events';
import { createServer } from 'node:net';
import { errorCode } from '../engine/index.js';

/**
 * Whether the service could listen on host:port now: binds a throwaway server there and closes
 * it. Run before anything else starts, so a port in use stops start-up with one line, before the
 * database, Redis or an embedded PostgreSQL begin (and log). Returns the error code, or undefined
 * when the port is free (port 0, any free port, always is). The real listen still reports its
 * own failure: something may take the port in between.
 */
export async function portUnavailable(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return undefined;
  const server = createServer();
  try {
    server.listen({ port, host, exclusive: true });
    await once(server, 'listening');
    return undefined;
  } catch (err) {
    return errorCode(err);
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
