import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { portUnavailable } from '../../src/service/port-preflight.js';
import { freePort } from './support/free-port.js';

describe('portUnavailable', () => {
  it('says nothing of a free port, and leaves it free', async () => {
    const port = await freePort();

    expect(await portUnavailable('127.0.0.1', port)).toBeUndefined();
    const server = createServer().listen(port, '127.0.0.1');
    await once(server, 'listening');
    server.close();
  });

  it('gives EADDRINUSE for a port something listens on', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      expect(await portUnavailable('127.0.0.1', (server.address() as { port: number }).port)).toBe('EADDRINUSE');
    } finally {
      server.close();
    }
  });

  it('gives EADDRNOTAVAIL for an address that is not this machine', async () => {
    expect(await portUnavailable('203.0.113.7', await freePort())).toBe('EADDRNOTAVAIL');
  });

  it('treats port 0 (any free port) as always available', async () => {
    expect(await portUnavailable('127.0.0.1', 0)).toBeUndefined();
  });
});
