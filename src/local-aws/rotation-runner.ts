import { randomUUID } from 'node:crypto';
import { nextRotationMs } from './rotation-schedule.js';
import { ROTATION_STEPS, RotationStepError, type RotationFunctions, type RotationStep } from './rotation-functions.js';
import { AWSPENDING, type Clock, type SecretRecord, type SecretStore } from './store.js';

/**
 * Runs rotations the way Secrets Manager does once RotateSecret has answered: asynchronously,
 * one secret at a time, calling the rotation function with `createSecret`, `setSecret`,
 * `testSecret` and `finishSecret` in order and stopping at the first failure (AWSPENDING then
 * stays where it is, so the next RotateSecret says a rotation is in progress, as AWS does). A
 * test run (RotateImmediately false) calls `testSecret` alone and removes its AWSPENDING again.
 */
export type RotationKind = 'rotation' | 'test';
export type RotationStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RotationStepResult {
  readonly step: RotationStep;
  readonly ok: boolean;
  readonly errorType?: string;
  readonly errorMessage?: string;
}

/** One rotation as the control plane reports it. Never a secret value. */
export interface RotationView {
  readonly secretName: string;
  readonly secretArn: string;
  readonly token: string;
  readonly lambdaArn: string;
  readonly kind: RotationKind;
  readonly status: RotationStatus;
  readonly steps: readonly RotationStepResult[];
  readonly startedMs: number;
  readonly finishedMs?: number;
}

interface RotationRun {
  readonly secret: SecretRecord;
  readonly token: string;
  readonly lambdaArn: string;
  readonly kind: RotationKind;
  status: RotationStatus;
  readonly steps: RotationStepResult[];
  readonly startedMs: number;
  finishedMs?: number;
  done?: Promise<void>;
}

/** Kept for the control plane; older runs are dropped. */
const MAX_HISTORY = 200;

export interface RotationRunnerOptions {
  readonly store: SecretStore;
  readonly functions: RotationFunctions;
  readonly clock: Clock;
  /** A step that takes longer fails, as a Lambda past its timeout does. */
  readonly stepTimeoutMs?: number;
}

export class RotationRunner {
  private readonly runs: RotationRun[] = [];
  private readonly running = new Map<SecretRecord, RotationRun>();
  private readonly stepTimeoutMs: number;
  private closed = false;

  constructor(private readonly options: RotationRunnerOptions) {
    this.stepTimeoutMs = options.stepTimeoutMs ?? 30_000;
  }

  /** The run in progress for this secret, if any. */
  runningFor(secret: SecretRecord): { readonly token: string } | undefined {
    return this.running.get(secret);
  }

  /**
   * Starts a run whose AWSPENDING placeholder version (`token`) exists already; returns at once.
   * The steps begin on a later turn, after RotateSecret has answered.
   */
  launch(secret: SecretRecord, token: string, lambdaArn: string, kind: RotationKind): void {
    const run: RotationRun = { secret, token, lambdaArn, kind, status: 'running', steps: [], startedMs: this.options.clock.now() };
    this.runs.push(run);
    if (this.runs.length > MAX_HISTORY) this.runs.splice(0, this.runs.length - MAX_HISTORY);
    this.running.set(secret, run);
    run.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.execute(run));
  }

  /** Stops the run in progress (no further step is called). Returns its version id. */
  cancel(secret: SecretRecord): string | undefined {
    const run = this.running.get(secret);
    if (run === undefined) return undefined;
    this.finish(run, 'cancelled');
    return run.token;
  }

  /**
   * Starts the scheduled rotation of every secret whose next rotation date has come (the local
   * endpoint has no scheduler of its own: a test moves its clock, then asks).
   */
  runDue(): RotationView[] {
    const now = this.options.clock.now();
    const started: RotationView[] = [];
    for (const secret of this.options.store.all()) {
      const rotation = secret.rotation;
      if (secret.deletedMs !== undefined || !rotation?.enabled || rotation.nextRotationMs === undefined || rotation.nextRotationMs > now) continue;
      if (this.running.has(secret)) continue;
      const token = randomUUID();
      try {
        this.options.store.createPendingVersion(secret, token);
      } catch {
        continue; // a previous rotation is unfinished: AWS would retry it, not start another
      }
      this.launch(secret, token, rotation.lambdaArn, 'rotation');
      started.push(view(this.runs[this.runs.length - 1]!));
    }
    return started;
  }

  history(): RotationView[] {
    return this.runs.map(view);
  }

  /** Resolves when no run is in progress (the ones started meanwhile included). */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Forgets every run (the store was emptied); runs in progress end as cancelled first. */
  reset(): void {
    for (const run of [...this.running.values()]) this.finish(run, 'cancelled');
    this.runs.length = 0;
  }

  /** No further step is called; runs in progress end as cancelled. */
  close(): void {
    this.closed = true;
    for (const run of [...this.running.values()]) this.finish(run, 'cancelled');
  }

  private async execute(run: RotationRun): Promise<void> {
    const steps: readonly RotationStep[] = run.kind === 'test' ? ['testSecret'] : ROTATION_STEPS;
    for (const step of steps) {
      if (run.status !== 'running' || this.closed) return;
      try {
        await this.options.functions.invoke(run.lambdaArn, { SecretId: run.secret.arn, ClientRequestToken: run.token, Step: step }, this.stepTimeoutMs);
        if (run.status !== 'running') return;
        run.steps.push({ step, ok: true });
      } catch (err) {
        if (run.status !== 'running') return;
        const e = err instanceof RotationStepError ? err : new RotationStepError('Error', '');
        run.steps.push({ step, ok: false, errorType: e.errorType, ...(e.message === '' ? {} : { errorMessage: e.message }) });
        this.finish(run, 'failed');
        return;
      }
    }
    this.finish(run, 'succeeded');
  }

  private finish(run: RotationRun, status: Exclude<RotationStatus, 'running'>): void {
    run.status = status;
    run.finishedMs = this.options.clock.now();
    if (this.running.get(run.secret) === run) this.running.delete(run.secret);
    const rotation = run.secret.rotation;
    if (run.kind === 'test') {
      // "The test creates an AWSPENDING version of the secret and then removes it."
      if (run.secret.versions.get(run.token)?.stages.has(AWSPENDING)) this.options.store.dropStage(run.secret, AWSPENDING);
      return;
    }
    if (status === 'succeeded' && rotation !== undefined) {
      rotation.lastRotatedMs = run.finishedMs;
      const next = rotation.enabled && rotation.rules !== undefined ? nextRotationMs(rotation.rules, run.finishedMs) : undefined;
      if (next === undefined) delete rotation.nextRotationMs;
      else rotation.nextRotationMs = next;
    }
  }
}

function view(run: RotationRun): RotationView {
  return {
    secretName: run.secret.name,
    secretArn: run.secret.arn,
    token: run.token,
    lambdaArn: run.lambdaArn,
    kind: run.kind,
    status: run.status,
    steps: [...run.steps],
    startedMs: run.startedMs,
    ...(run.finishedMs === undefined ? {} : { finishedMs: run.finishedMs }),
  };
}
