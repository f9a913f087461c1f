import { createServer } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { probeTcp } from '../../src/service/tcp-probe.js';
import { freePort } from './support/free-port.js';

describe('probeTcp', () => {
  it('says open where something accepts connections', async () => {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      expect(await probeTcp('127.0.0.1', port)).toBe('open');
    } finally {
      server.close();
    }
  });

  it('says refused where nothing listens', async () => {
    expect(await probeTcp('127.0.0.1', await freePort())).toBe('refused');
  });

  it('says unknown, not refused, for an address it cannot try', async () => {
    expect(await probeTcp('127.0.0.1', 65_536)).toBe('unknown');
  });
});
