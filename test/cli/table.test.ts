import { describe, expect, it } from 'vitest';
import { formatRow, formatTable } from '../../src/cli/table.js';

describe('formatTable', () => {
  it('aligns every column on its widest cell, header included', () => {
    const text = formatTable(['NAME', 'STATE'], [['ADMIN_TOKEN', 'ok'], ['X', 'overdue']]);

    expect(text).toBe(['NAME         STATE', 'ADMIN_TOKEN  ok', 'X            overdue', ''].join('\n'));
  });

  it('measures coloured cells without their colour codes', () => {
    const red = (t: string) => `\u001b[31m${t}\u001b[39m`;

    const line = formatRow([{ text: 'MISSING', style: red }, 'next'], [10, 4]);

    expect(line).toBe(`${red('MISSING')}     next`);
  });
});
