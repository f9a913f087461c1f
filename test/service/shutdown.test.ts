import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/engine/index.js';
import { installGracefulShutdown } from '../../src/service/shutdown.js';

function fakeProcess() {
  const emitter = new EventEmitter();
  return { proc: { on: (s: string, fn: () => void) => emitter.on(s, fn) } as never, emit: (s: string) => emitter.emit(s) };
}

describe('installGracefulShutdown', () => {
  it('closes once and exits 0 on SIGTERM', async () => {
    const { proc, emit } = fakeProcess();
    let closes = 0;
    const exited = new Promise<number>((resolve) =>
      installGracefulShutdown({ logger: silentLogger, timeoutMs: 1_000, process: proc, exit: resolve, close: async () => void closes++ }),
    );

    emit('SIGTERM');
    emit('SIGTERM');

    expect(await exited).toBe(0);
    expect(closes).toBe(1);
  });

  it('exits 1 when closing fails', async () => {
    const { proc, emit } = fakeProcess();
    const exited = new Promise<number>((resolve) =>
      installGracefulShutdown({ logger: silentLogger, timeoutMs: 1_000, process: proc, exit: resolve, close: () => Promise.reject(new Error('x')) }),
    );

    emit('SIGINT');

    expect(await exited).toBe(1);
  });

  it('exits 1 when closing outlives the deadline', async () => {
    const { proc, emit } = fakeProcess();
    const exited = new Promise<number>((resolve) =>
      installGracefulShutdown({ logger: silentLogger, timeoutMs: 50, process: proc, exit: resolve, close: () => new Promise(() => {}) }),
    );

    emit('SIGTERM');

    expect(await exited).toBe(1);
  });
});
