import { describe, expect, it } from 'vitest';
import { createStartupLogGate } from '../../src/service/startup-log-gate.js';

describe('createStartupLogGate', () => {
  it('holds lines until opened, then writes them in order and passes the rest', () => {
    const out: string[] = [];
    const gate = createStartupLogGate({ write: (l) => out.push(l) });

    gate.stream.write('a\n');
    gate.stream.write('b\n');
    const before = [...out];
    gate.open();
    gate.stream.write('c\n');

    expect(before).toEqual([]);
    expect(out).toEqual(['a\n', 'b\n', 'c\n']);
  });

  it('drops what it held when discarded, and still passes later lines', () => {
    const out: string[] = [];
    const gate = createStartupLogGate({ write: (l) => out.push(l) });

    gate.stream.write('secrets.secret_failed\n');
    gate.discard();
    gate.stream.write('later\n');

    expect(out).toEqual(['later\n']);
  });
});
