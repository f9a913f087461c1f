import type { Catalog, Clock, EngineStatus, Logger, TimerHandle } from '../engine/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How old a rotated secret's current version is, against its catalog schedule. */
export interface RotationAge {
  readonly name: string;
  readonly rotateEveryDays: number;
  readonly ageDays: number;
  readonly overdue: boolean;
}

/**
 * Each catalog secret with a rotation period (`rotation.everyDays`) that the engine has loaded:
 * the age of its current version (AWS CreatedDate in AWS mode) in whole days, and whether it is
 * past the period. Secrets without a period or not loaded are left out.
 */
export function rotationAges(catalog: Catalog, status: Pick<EngineStatus, 'secrets'>, nowMs: number): RotationAge[] {
  const ages: RotationAge[] = [];
  for (const { name, spec } of catalog.entries) {
    const everyDays = spec.rotation?.everyDays;
    const lastChanged = status.secrets[name]?.lastChanged;
    if (everyDays === undefined || lastChanged === null || lastChanged === undefined) continue;
    const ageDays = Math.floor((nowMs - Date.parse(lastChanged)) / DAY_MS);
    ages.push({ name, rotateEveryDays: everyDays, ageDays, overdue: ageDays > everyDays });
  }
  return ages;
}

export interface RotationOverdueWatchOptions {
  readonly catalog: Catalog;
  readonly engine: { status(): Pick<EngineStatus, 'secrets'> };
  readonly logger: Logger;
  readonly clock: Clock;
  /** How often to look; under an hour so an hourly log metric never has an empty period. */
  readonly intervalMs?: number;
}

/** The event `secrets alarms` turns into the rotation-overdue metric filter: keep the name. */
export const ROTATION_OVERDUE_EVENT = 'secrets.rotation_overdue';

/**
 * Logs `secrets.rotation_overdue` (warn, one line per overdue secret: name and ages, never a
 * value) now and every `intervalMs`, from the engine's in-memory status: no AWS call. A log
 * metric filter on these lines is the rotation-overdue alarm of `secrets alarms`.
 */
export function watchRotationOverdue(options: RotationOverdueWatchOptions): { stop(): void } {
  const { catalog, engine, logger, clock, intervalMs = 30 * 60 * 1000 } = options;
  let timer: TimerHandle | undefined;
  let stopped = false;
  const check = () => {
    if (stopped) return;
    for (const age of rotationAges(catalog, engine.status(), clock.now())) {
      if (!age.overdue) continue;
      logger.warn(
        { event: ROTATION_OVERDUE_EVENT, name: age.name, ageDays: age.ageDays, rotateEveryDays: age.rotateEveryDays },
        `${age.name} is overdue for rotation (${age.ageDays} days old, rotate every ${age.rotateEveryDays})`,
      );
    }
    timer = clock.setTimeout(check, intervalMs);
  };
  check();
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
