import { describe, expect, it } from 'vitest';
import { colorEnabled, createStyle } from '../../src/cli/style.js';

describe('colours', () => {
  it('are on only for a terminal without NO_COLOR', () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(true, { TERM: 'dumb' })).toBe(false);
  });

  it('paint with escape codes when on and leave text alone when off', () => {
    expect(createStyle(true).bad('MISSING')).toBe('\u001b[31mMISSING\u001b[39m');
    expect(createStyle(false).bad('MISSING')).toBe('MISSING');
  });
});
