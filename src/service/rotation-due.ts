import type { SecretSpec } from '../engine/index.js';

const DAY_MS = 86_400_000;

/** How many days before its period ends a rotation shows as due (as `secrets status` says). */
export const ROTATION_DUE_WITHIN_DAYS = 14;

/** A secret's rotation against its catalog schedule. Dates and words only, never a value. */
export interface RotationView {
  /** The catalog's wording, e.g. `90 days`, `When compromised`; `-` when it has none. */
  readonly schedule: string;
  readonly everyDays: number | null;
  /** When the current value's period ends; null without a period or a known last change. */
  readonly dueAt: string | null;
  /** `due`: within 14 days of `dueAt`; `n/a`: no period, or the value is not loaded. */
  readonly state: 'ok' | 'due' | 'overdue' | 'n/a';
}

/**
 * Rotation state of one secret from its schedule and the time its current value appeared
 * (`lastChanged`: the version's creation in AWS mode; in `.env` mode, when this process first
 * read that value).
 */
export function rotationDue(rotation: SecretSpec['rotation'], lastChanged: string | null, nowMs: number): RotationView {
  const schedule = rotation?.schedule ?? '-';
  const everyDays = rotation?.everyDays ?? null;
  const changedMs = lastChanged === null ? Number.NaN : Date.parse(lastChanged);
  if (everyDays === null || Number.isNaN(changedMs)) return { schedule, everyDays, dueAt: null, state: 'n/a' };
  const dueAtMs = changedMs + everyDays * DAY_MS;
  const state = nowMs > dueAtMs ? 'overdue' : nowMs > dueAtMs - ROTATION_DUE_WITHIN_DAYS * DAY_MS ? 'due' : 'ok';
  return { schedule, everyDays, dueAt: new Date(dueAtMs).toISOString(), state };
}
