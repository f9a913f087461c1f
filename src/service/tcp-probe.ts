import { connect, type Socket } from 'node:net';

/**
 * `open`: something accepts connections there. `refused`: nothing listens (ECONNREFUSED, the only
 * answer that proves the port is free). `unknown`: no answer in time, or another error: neither
 * proves absence, so callers must not start a server of their own there.
 */
export type TcpProbeResult = 'open' | 'refused' | 'unknown';

/** One TCP connection attempt, closed at once; never sends a byte. */
export function probeTcp(host: string, port: number, timeoutMs = 1_000): Promise<TcpProbeResult> {
  return new Promise((resolve) => {
    let socket: Socket;
    try {
      socket = connect({ host, port });
    } catch {
      resolve('unknown'); // e.g. a port out of range: nothing proven either way
      return;
    }
    const done = (result: TcpProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done('unknown'));
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'unknown'));
  });
}
