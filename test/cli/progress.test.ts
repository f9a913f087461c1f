import { describe, expect, it } from 'vitest';
import { createProgress, type SpinnerFactory } from '../../src/cli/progress.js';

describe('createProgress', () => {
  it('writes a line per finished item and nothing else without a terminal', () => {
    const out: string[] = [];
    const progress = createProgress((t) => out.push(t));

    progress.working('ADMIN_TOKEN...');
    progress.done('ADMIN_TOKEN  created');
    progress.finish();

    expect(out).toEqual(['ADMIN_TOKEN  created\n']);
  });

  it('on a terminal, clears the spinner before each line and spins on for what is still awaited', () => {
    const events: string[] = [];
    const spinner: SpinnerFactory = (text) => {
      events.push(`start ${text}`);
      return { text: (t) => events.push(`text ${t}`), stop: () => events.push('stop') };
    };
    const progress = createProgress((t) => events.push(`line ${t.trim()}`), spinner);

    progress.working('2 instances left');
    progress.done('a refreshed');
    progress.working('1 instance left');
    progress.done('b refreshed');
    progress.finish();

    expect(events).toEqual(['start 2 instances left', 'stop', 'line a refreshed', 'start 2 instances left', 'text 1 instance left', 'stop', 'line b refreshed', 'start 1 instance left', 'stop']);
  });
});
