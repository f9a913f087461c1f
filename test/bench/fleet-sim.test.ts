import { beforeAll, describe, expect, it } from 'vitest';
import { FLEET_SIM_CONTRACT_KEYS as CONTRACT_KEYS, runFleetSim, type FleetSimResult } from '../../bench/support/fleet-sim/run-fleet-sim.js';

// The quick mode of the fleet simulation: 1,000 real engines on the simulated clock. Its figures
// are the simulated clock's, so they do not depend on this machine's speed; only the wall time does.
let result: FleetSimResult;

describe('bench:fleet-sim quick mode (1,000 instances)', () => {
  beforeAll(async () => {
    result = await runFleetSim({ instances: 1_000, steadyHours: 2 });
  }, 180_000);

  it('reports every key of the contract as a finite number', () => {
    for (const key of CONTRACT_KEYS) expect(Number.isFinite(result[key]), key).toBe(true);
    expect(result.instances).toBe(1_000);
  });

  it('starts every instance within the start-up deadline', () => {
    expect(result.startupFailures).toBe(0);
    expect(result.startupP99Ms).toBeLessThanOrEqual(result.phases.startup.deadlineMs);
  });

  it('adopts notices with no throttled call, every instance', () => {
    expect(result.throttledCallsByPhase).toMatchObject({ oneSecret: 0, fullRefresh: 0, steady: 0 });
    expect([result.phases.oneSecret.notAdopted, result.phases.fullRefresh.notAdopted]).toEqual([0, 0]);
  });

  it('keeps every second after start-up within the GetSecretValue budget and the batch quota', () => {
    expect(result.peakGetSecretValuePerSecond).toBeLessThanOrEqual(result.budgetGetSecretValuePerSecond);
    expect(result.peakBatchPerSecond).toBeLessThanOrEqual(result.quotasPerSecond.BatchGetSecretValue);
  });

  it('costs each instance a notice’s worth of GetSecretValue calls: two for a rotated secret, one per secret for a full refresh', () => {
    expect(result.phases.oneSecret.calls).toEqual({ BatchGetSecretValue: 0, GetSecretValue: 2 * 1_000 });
    expect(result.phases.fullRefresh.calls.BatchGetSecretValue).toBe(0);
    expect(result.phases.fullRefresh.calls.GetSecretValue % 1_000).toBe(0);
  });

  it('adopts one secret sooner than a full refresh, both within their targets', () => {
    expect(result.oneSecretAdoptionP99Ms).toBeLessThan(result.fullRefreshAdoptionP99Ms);
    expect(result.oneSecretAdoptionP99Ms).toBeLessThanOrEqual(5_000);
    expect(result.fullRefreshAdoptionP99Ms).toBeLessThanOrEqual(30_000);
  });

  it('costs at most two calls per instance an hour in steady state', () => {
    expect(result.callsPerInstanceHour).toBeGreaterThan(0);
    expect(result.callsPerInstanceHour).toBeLessThanOrEqual(2);
  });
});
