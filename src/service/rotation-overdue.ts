import type { Catalog, Clock, EngineStatus, Logger, TimerHandle } from '../engine/index.js';
import { rotationDue } from '../engine/index.js';

/** How old a rotated secret's current version is, against its catalog schedule. */
export interface RotationAge {
  readonly name: string;
  readonly rotateEveryDays: number;
  /** Fractional days since the current version appeared. */
  readonly ageDays: number;
  /** Past the end of its period, by the engine's `rotationDue` (the rule `secrets status` uses). */
  readonly overdue: boolean;
}

/**
 * Each catalog secret with a rotation period (`rotation.everyDays`) that the engine has loaded:
 * the age of its current version (AWS CreatedDate in AWS mode), and whether it is past the
 * period. Secrets without a period or not loaded are left out. The log line below and the
 * `secrets_rotation_*` metrics both read this.
 */
export function rotationAges(catalog: Catalog, status: Pick<EngineStatus, 'secrets'>, nowMs: number): RotationAge[] {
  const ages: RotationAge[] = [];
  for (const { name, spec } of catalog.entries) {
    const due = rotationDue(spec.rotation, status.secrets[name]?.lastChanged ?? null, nowMs);
    if (due.everyDays === null || due.ageDays === null) continue;
    ages.push({ name, rotateEveryDays: due.everyDays, ageDays: due.ageDays, overdue: due.state === 'overdue' });
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
      const ageDays = Math.floor(age.ageDays);
      logger.warn(
        { event: ROTATION_OVERDUE_EVENT, name: age.name, ageDays, rotateEveryDays: age.rotateEveryDays },
        `${age.name} is overdue for rotation (${ageDays} days old, rotate every ${age.rotateEveryDays})`,
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
