import type { SecretSpec } from './catalog.js';

const DAY_MS = 86_400_000;

/** How many days before its period ends a rotation shows as due (as `secrets status` says). */
export const ROTATION_DUE_WITHIN_DAYS = 14;

/**
 * A secret's rotation against its catalog schedule. Dates and words only, never a value. The one
 * definition of "when is rotation due": `secrets status`, the service's status page, its
 * `secrets.rotation_overdue` log line and its `secrets_rotation_*` metrics all use it.
 */
export interface RotationView {
  /** The catalog's wording, e.g. `90 days`, `When compromised`; `-` when it has none. */
  readonly schedule: string;
  readonly everyDays: number | null;
  /** When the current value's period ends; null without a period or a known last change. */
  readonly dueAt: string | null;
  /** Days (fractional) since the current value appeared; null when that time is not known. */
  readonly ageDays: number | null;
  /** `due`: within 14 days of `dueAt`; `overdue`: past it; `n/a`: no period, or no known last change. */
  readonly state: 'ok' | 'due' | 'overdue' | 'n/a';
}

/**
 * Rotation state of one secret from its schedule and the time its current value appeared
 * (`lastChanged`: the version's creation in AWS mode, or DescribeSecret's LastChangedDate for the
 * CLI; in `.env` mode, when this process first read that value).
 */
export function rotationDue(rotation: SecretSpec['rotation'], lastChanged: string | null, nowMs: number): RotationView {
  const schedule = rotation?.schedule ?? '-';
  const everyDays = rotation?.everyDays ?? null;
  const changedMs = lastChanged === null ? Number.NaN : Date.parse(lastChanged);
  const ageDays = Number.isNaN(changedMs) ? null : (nowMs - changedMs) / DAY_MS;
  if (everyDays === null || ageDays === null) return { schedule, everyDays, dueAt: null, ageDays, state: 'n/a' };
  const dueAtMs = changedMs + everyDays * DAY_MS;
  const state = nowMs > dueAtMs ? 'overdue' : nowMs > dueAtMs - ROTATION_DUE_WITHIN_DAYS * DAY_MS ? 'due' : 'ok';
  return { schedule, everyDays, dueAt: new Date(dueAtMs).toISOString(), ageDays, state };
}
