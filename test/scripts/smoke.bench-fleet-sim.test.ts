import { describe, expect, it } from 'vitest';
import { FLEET_SIM_CONTRACT_KEYS as CONTRACT_KEYS } from '../../bench/support/fleet-sim/run-fleet-sim.js';
import { runScript } from './support/npm-script.js';

/** `npm run bench:fleet-sim -- --json` on a small fleet: one JSON object with the contract keys (test/bench/fleet-sim.test.ts checks the figures at 1,000). */
describe('npm run bench:fleet-sim -- --json', () => {
  it('prints exactly one JSON object carrying the contract keys', async () => {
    const { code, stdout, stderr } = await runScript('bench:fleet-sim', ['--json', '--instances', '200', '--steady-hours', '1'], { timeoutMs: 120_000 });

    expect(code, stderr).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(printed)).toEqual(expect.arrayContaining([...CONTRACT_KEYS]));
    expect(printed.instances).toBe(200);
  }, 150_000);
});
