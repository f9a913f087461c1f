import { describe, expect, it } from 'vitest';
import { rotationCliFixture } from '../../rotation/support/rotation-cli.js';

/**
 * `secrets rotate admin-token` stopped at each call it makes (fault injection), then run again or
 * rolled back. A file of its own: it runs the CLI some 200 times, which is why `npm run mutation`
 * leaves it out (see MUTATION.md); each rule it proves has a single-run test in rotate.test.ts.
 */
const T0 = 'canary-rotate-original-Z9x8C7v6b5';

const cli = rotationCliFixture(T0, 'rotf');
const { scenario, secretsCli, stateOf, tokenFiles } = cli;

describe('secrets rotate admin-token stopped after each call it makes, then run again or rolled back', () => {
  const variants: readonly (readonly string[])[] = [[], ['--save-token', 'tok.txt'], ['--print']];
  // The number of calls a clean run makes (asserted in the first test of rotate.test.ts).
  const CALLS = 12;
  for (const extra of variants) {
    for (const mode of ['before', 'after'] as const) {
      it(`ends with one AWSCURRENT and the token in hand when stopped ${mode} any call (${extra.join(' ') || 'default file'}), re-run to finish`, async () => {
        let resumed = 0;
        for (let crashAt = 1; crashAt <= CALLS; crashAt += 1) {
          const { project, secretId, cwd } = await scenario();
          const argv = ['rotate', 'admin-token', '--yes', '--project', project, ...extra];
          const held = new Set([T0]);

          const failed = await secretsCli(argv, { cwd, faults: { crashAt, mode } });
          if (failed.printed) held.add(failed.printed);
          for (const t of (await tokenFiles(cwd)).tokens) held.add(t);
          const middle = await stateOf(secretId);
          expect(held, `crash at call ${crashAt}`).toContain(middle.value);
          // A crash after the switch (the best-effort tidy-up of AWSPENDING) is no failure at all.
          if (failed.code !== 0) expect(failed.stderr.trim().split('\n'), `crash at call ${crashAt}`).toHaveLength(1);
          if (middle.unfinishedId !== undefined) expect(failed.stderr).toContain(middle.unfinishedId);

          const rerun = await secretsCli(argv, { cwd });
          if (rerun.printed) held.add(rerun.printed);
          const files = await tokenFiles(cwd);
          for (const t of files.tokens) held.add(t);
          const end = await stateOf(secretId);
          expect(end.unfinishedId, `crash at call ${crashAt}`).toBeUndefined();
          expect(files.reserved, `crash at call ${crashAt}`).toEqual([]);
          expect(held, `crash at call ${crashAt}`).toContain(end.value);
          if (middle.currentId !== end.currentId || middle.value === T0) {
            expect(rerun.code, `crash at call ${crashAt}: ${rerun.stderr}`).toBe(0);
            expect(end.value).not.toBe(T0);
          } else {
            // The first run had committed: a second rotation within 10 minutes is refused, changing nothing.
            expect(rerun.stderr).toMatch(/less than 10 minutes ago/);
          }
          const started = middle.unfinishedId ?? middle.candidateId;
          if (started !== undefined) {
            expect(end.currentId).toBe(started);
            resumed += 1;
          }
        }
        // Stopped between createSecret and the switch, the run left a rotation to resume.
        expect(resumed).toBeGreaterThanOrEqual(3);
      });
    }
  }

  for (const mode of ['before', 'after'] as const) {
    it(`ends with one AWSCURRENT and a token in hand when stopped ${mode} any call, then rolled back`, async () => {
      for (let crashAt = 1; crashAt <= CALLS; crashAt += 1) {
        const { project, secretId, cwd } = await scenario();
        const held = new Set([T0]);
        await secretsCli(['rotate', 'admin-token', '--yes', '--project', project], { cwd, faults: { crashAt, mode } });
        const files = await tokenFiles(cwd);
        for (const t of files.tokens) held.add(t);

        const rolled = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], { cwd });
        const end = await stateOf(secretId);
        expect(end.unfinishedId, `crash at call ${crashAt}`).toBeUndefined();
        expect(held, `crash at call ${crashAt}`).toContain(end.value);
        if (rolled.code !== 0) expect(rolled.stderr).toMatch(/no AWSPREVIOUS version to roll back to; nothing changed/);
        // A rollback deletes no token file.
        expect((await tokenFiles(cwd)).tokens).toEqual(files.tokens);
      }
    });
  }
});
