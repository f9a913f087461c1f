import { describe, expect, it } from 'vitest';
import { helpFor } from '../../src/cli/help.js';

describe('per-command help', () => {
  it('describes every option a command lists in its usage line', () => {
    for (const command of ['setup', 'rotate', 'rollback', 'init', 'check']) {
      const text = helpFor(command);
      const usage = text.slice(0, text.indexOf('\n\n'));
      const described = text.slice(text.indexOf('\n\n'));
      for (const [, option] of usage.matchAll(/\[(--[a-z-]+)/g)) expect(described, `${command} ${option}`).toMatch(new RegExp(`^\\s+${option}[ ,]`, 'm'));
    }
  });

  it('says what rotate --yes does', () => {
    expect(helpFor('rotate')).toMatch(/--yes, -y\s+rotate without asking to confirm/);
  });
});
