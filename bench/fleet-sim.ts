/**
 * Fleet simulation (issue 19): N real engines, each with its own AWS source, refresher, backoff
 * and refresh-notice handling, in one process on a simulated clock, against a simulated Secrets
 * Manager that enforces the published per-region quotas (BatchGetSecretValue 100/s,
 * GetSecretValue 10,000/s) and answers ThrottlingException above them. See
 * bench/support/fleet-sim/run-fleet-sim.ts for the phases and BENCHMARKS.md for the figures.
 *
 * Usage: npm run bench:fleet-sim -- [--json] [--instances N] [--seed S] [--startup-timeout-ms MS]
 *        [--budget-per-second R] [--steady-hours H]
 * No network, no servers: the whole world is in this process, and every loop ends with the clock.
 */
import { parseArgs } from 'node:util';
import { runFleetSim } from './support/fleet-sim/run-fleet-sim.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    instances: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    'startup-timeout-ms': { type: 'string' },
    'budget-per-second': { type: 'string' },
    'steady-hours': { type: 'string', default: '3' },
  },
  strict: true,
});

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
  return n;
}

const result = await runFleetSim({
  instances: positive(args.instances, '--instances'),
  seed: positive(args.seed, '--seed'),
  steadyHours: positive(args['steady-hours'], '--steady-hours'),
  ...(args['startup-timeout-ms'] !== undefined && { startupTimeoutMs: positive(args['startup-timeout-ms'], '--startup-timeout-ms') }),
  ...(args['budget-per-second'] !== undefined && { budgetPerSecond: positive(args['budget-per-second'], '--budget-per-second') }),
});
if (args.json) {
  console.log(JSON.stringify(result));
} else {
  const { phases: _, ...figures } = result;
  console.log(`# fleet simulation: ${result.instances} instances, node ${process.version}`);
  for (const [k, v] of Object.entries(figures)) console.log(`${k}: ${JSON.stringify(v)}`);
  for (const [k, v] of Object.entries(result.phases)) console.log(`phase ${k}: ${JSON.stringify(v)}`);
}
