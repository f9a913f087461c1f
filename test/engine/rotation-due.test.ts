import { describe, expect, it } from 'vitest';
import { rotationDue } from '../../src/engine/rotation-due.js';

const DAY_MS = 86_400_000;
const CHANGED = '2026-01-01T00:00:00.000Z';
const every90 = { everyDays: 90, method: 'secrets rotate admin-token', schedule: '90 days' };
const at = (days: number) => Date.parse(CHANGED) + days * DAY_MS;

describe('rotationDue', () => {
  it('is ok until 14 days before the period ends, due from then, overdue after it', () => {
    expect(rotationDue(every90, CHANGED, at(75)).state).toBe('ok');
    expect(rotationDue(every90, CHANGED, at(76)).state).toBe('ok');
    expect(rotationDue(every90, CHANGED, at(76) + 1).state).toBe('due');
    expect(rotationDue(every90, CHANGED, at(90)).state).toBe('due');
    expect(rotationDue(every90, CHANGED, at(90) + 1).state).toBe('overdue');
  });

  it('gives the age of the current value in fractional days', () => {
    expect(rotationDue(every90, CHANGED, at(91.5)).ageDays).toBe(91.5);
    expect(rotationDue(every90, CHANGED, at(-0.5)).ageDays).toBe(-0.5);
  });

  it('treats an unreadable last change as unknown', () => {
    expect(rotationDue(every90, 'not a date', at(1))).toEqual({ schedule: '90 days', everyDays: 90, dueAt: null, ageDays: null, state: 'n/a' });
  });

  it('dates the end of the period from the last change', () => {
    expect(rotationDue(every90, CHANGED, at(1))).toEqual({ schedule: '90 days', everyDays: 90, dueAt: '2026-04-01T00:00:00.000Z', ageDays: 1, state: 'ok' });
  });

  it('is n/a without a period, without a schedule, or without a known last change', () => {
    expect(rotationDue({ method: 'Manual', schedule: 'When compromised' }, CHANGED, at(500))).toEqual({ schedule: 'When compromised', everyDays: null, dueAt: null, ageDays: 500, state: 'n/a' });
    expect(rotationDue(undefined, CHANGED, at(1))).toEqual({ schedule: '-', everyDays: null, dueAt: null, ageDays: 1, state: 'n/a' });
    expect(rotationDue(every90, null, at(1))).toEqual({ schedule: '90 days', everyDays: 90, dueAt: null, ageDays: null, state: 'n/a' });
  });
});
