import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_CHECKLIST } from '../../../src/cli/rotation-kinds.js';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { localClient } from '../../support/local-aws.js';
import { rotationCliFixture } from '../../rotation/support/rotation-cli.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';

/** The token every scenario starts from: the operator holds it; no output may show it. */
const T0 = 'canary-rotate-original-Z9x8C7v6b5';
const UUID = /^[0-9a-f-]{36}$/;

const cli = rotationCliFixture(T0, 'rot');
const { scan, scenario, secretsCli, stateOf, tokenFiles } = cli;

/** A client fault: Secrets Manager answers AccessDeniedException to moving `stage`, and to nothing else. */
function refusingStageMove(stage: string) {
  return async (_n: number, name: string, input: Record<string, unknown>) => {
    if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === stage) throw denied();
  };
}

/** A client fault: taking a version's ROTATION_CANDIDATE_ label off is refused (the claim before it is not). */
async function refusingCandidateDrop(_n: number, name: string, input: Record<string, unknown>) {
  if (name === 'UpdateSecretVersionStageCommand' && String(input.VersionStage).startsWith('ROTATION_CANDIDATE_') && input.MoveToVersionId === undefined) throw denied();
}

const denied = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

describe('secrets rotate admin-token', () => {
  it('creates the pending version, hands the token to a 0600 file named for it, and finishes by moving AWSCURRENT', async () => {
    const { secretId, cwd } = await scenario();
    const before = await stateOf(secretId);

    const { code, stdout, stderr, calls } = await secretsCli(['rotate', 'admin-token', '--yes', '--project', secretId.split('/')[0]!], { cwd });

    expect(code).toBe(0);
    const after = await stateOf(secretId);
    expect(after.currentId).not.toBe(before.currentId);
    expect(after.stages[after.currentId]).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE']);
    expect(after.stages[before.currentId]).toEqual(['AWSPREVIOUS']);
    const file = join(cwd, `.admin-token-new-${after.currentId}.txt`);
    expect((await readFile(file, 'utf8')).trim()).toBe(after.value);
    expect(after.value).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(stdout).toBe(
      [`Rotated ${secretId} (immediate): AWSCURRENT ${before.currentId} -> ${after.currentId}`, `New admin token saved to: ${file} (mode 0600)`, '', ADMIN_TOKEN_CHECKLIST, ''].join('\n'),
    );
    expect(stderr).toBe('');
    expect(calls).toEqual([
      // plan
      'ListSecretVersionIdsCommand',
      // claim: the current value and labels, the put under its own label, AWSPENDING moved to it, that label dropped
      'GetSecretValueCommand',
      'ListSecretVersionIdsCommand',
      'PutSecretValueCommand',
      'UpdateSecretVersionStageCommand',
      'UpdateSecretVersionStageCommand',
      // the claim re-checked before the hand-over and before setSecret
      'ListSecretVersionIdsCommand',
      'ListSecretVersionIdsCommand',
      // finish: AWSCURRENT, ROTATION_IMMEDIATE, AWSPENDING off
      'ListSecretVersionIdsCommand',
      'UpdateSecretVersionStageCommand', // SWITCHED_AT_<ms>: the grace window starts at the switch
      'UpdateSecretVersionStageCommand',
      'UpdateSecretVersionStageCommand',
      'UpdateSecretVersionStageCommand',
    ]);
    await tokenFiles(cwd);
  });

  it('needs no --force for the first rotation after setup, and refuses a second one within 10 minutes', async () => {
    const { project, cwd } = await scenario();
    expect((await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], { cwd })).code).toBe(0);
    const again = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/less than 10 minutes ago.*--force/);
    expect((await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], { cwd, now: () => Date.now() + 11 * 60_000 })).code).toBe(0);
  });

  it('prints the token on stdout and nothing else there with --print, and puts no value in the rotation log', async () => {
    const { project, secretId, cwd } = await scenario();
    const { code, printed, stderr } = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--strategy', 'graceful', '--project', project], { cwd });
    expect(code).toBe(0);
    const after = await stateOf(secretId);
    expect(printed).toBe(after.value);
    expect(after.stages[after.currentId]).toEqual(['AWSCURRENT']);
    expect(stderr).toContain('POST-ROTATION CHECKLIST');
    const log = await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8');
    scan.output(log);
    expect(JSON.parse(log)).toMatchObject({ action: 'rotate', secretId, toVersionId: after.currentId, strategy: 'graceful' });
  });

  it('resumes with the version id a reservation holds when a crash left it before the version was created', async () => {
    const { project, secretId, cwd } = await scenario();
    const versionId = '11111111-2222-4333-8444-555555555555';
    const path = join(cwd, `.admin-token-new-${versionId}.txt`);
    await writeFile(path, `# secrets rotate: reserved for the new token of ${secretId} version ${versionId}.\n`, { mode: 0o600 });

    const { code, stderr } = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project], { cwd });

    expect(code).toBe(0);
    expect(stderr).toContain(`Resuming the rotation of ${secretId} to version ${versionId} (found reserved in ${path})`);
    const end = await stateOf(secretId);
    expect(end.currentId).toBe(versionId);
    expect((await readFile(path, 'utf8')).trim()).toBe(end.value);
  });

  it('keeps the pending version when the token file cannot be written, and hands it over to another file on the next run', async () => {
    const { project, secretId, cwd } = await scenario();
    // While the pending version is being created, the reserved file is replaced by a folder: writing the token onto it fails.
    const broken = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--save-token', 'tok.txt'], {
      cwd,
      faults: {
        beforeSend: async (_n, name) => {
          if (name !== 'PutSecretValueCommand') return;
          await rm(join(cwd, 'tok.txt'), { force: true });
          await mkdir(join(cwd, 'tok.txt', 'in-the-way'), { recursive: true });
        },
      },
    });
    expect(broken.code).toBe(1);
    const middle = await stateOf(secretId);
    expect(middle.value).toBe(T0);
    expect(middle.unfinishedId).toMatch(UUID);
    expect(broken.stderr).toContain(`Could not write the new token to ${join(cwd, 'tok.txt')} (EISDIR)`);
    expect(broken.stderr).toContain(`Version ${middle.unfinishedId} of ${secretId} is pending, not current (the old token still works), but its token was not handed over`);

    const again = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--save-token', 'other.txt'], { cwd });
    expect(again.code).toBe(0);
    const end = await stateOf(secretId);
    expect(end.currentId).toBe(middle.unfinishedId);
    expect((await readFile(join(cwd, 'other.txt'), 'utf8')).trim()).toBe(end.value);
  });

  it('stops before the switch when the service given by --url has not caught up with the current version, and finishes once it has', async () => {
    const { project, secretId, cwd } = await scenario();
    const service = await startStandInService(cli.lsm, project);
    try {
      // Another change the service has not seen: it still serves the first version.
      const first = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], { cwd });
      expect(first.code).toBe(0);
      const stale = await secretsCli(['rotate', 'admin-token', '--yes', '--force', '--project', project, '--url', service.url], { cwd });
      expect(stale.code).toBe(1);
      const middle = await stateOf(secretId);
      expect(middle.unfinishedId).toMatch(UUID);
      expect(stale.stderr).toContain(`${service.url}/admin/secrets/health answered HTTP 401: it refuses the current admin token (does it read this secret store? has it refreshed?)`);
      expect(stale.stderr).toContain(`Version ${middle.unfinishedId} of ${secretId} is pending, not current: the old token still works; its token is in`);

      await service.engine.refresh();
      const resumed = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--url', service.url, '--notify', service.url], { cwd });
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain(`Finished the rotation of ${secretId} (immediate): AWSCURRENT ${middle.currentId} -> ${middle.unfinishedId}`);
      expect(resumed.stdout).toContain(`Notified ${service.url}: refreshed`);
      const end = await stateOf(secretId);
      expect((await tokenFiles(cwd)).tokens).toContain(end.value);
      expect(service.engine.status().secrets.ADMIN_TOKEN!.versionId).toBe(end.currentId);
    } finally {
      await service.close();
    }
  });

  it('leaves the rotation pending when Secrets Manager refuses the switch, and rollback cancels it', async () => {
    const { project, secretId, cwd } = await scenario();
    // The switch (the AWSCURRENT move) is refused; the claim before it is not.
    const denied = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project], { cwd, faults: { beforeSend: refusingStageMove('AWSCURRENT') } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/Access denied to .* \(AccessDeniedException\).*is pending, not current: the old token still works; its token is in .*Run the same command again to resume, or "secrets rollback admin-token" to cancel it/);
    const middle = await stateOf(secretId);
    const tokenFile = join(cwd, `.admin-token-new-${middle.unfinishedId}.txt`);
    expect((await readFile(tokenFile, 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{64}$/);

    const cancelled = await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], { cwd });
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`Cancelled the unfinished rotation of ${secretId}: version ${middle.unfinishedId} is no longer AWSPENDING; AWSCURRENT stays ${middle.currentId}`);
    expect(cancelled.stdout).toContain(`The token in ${tokenFile} belongs to the cancelled version and was never current: delete it securely.`);
    const end = await stateOf(secretId);
    expect(end.value).toBe(T0);
    expect(end.unfinishedId).toBeUndefined();
    await stat(tokenFile);
    await tokenFiles(cwd);
  });

  it('starts a new rotation after one whose candidate label was left behind, and clears such leftovers', async () => {
    const { project, secretId, cwd } = await scenario();
    // The claim lands, then taking the candidate label off is refused (it is best effort).
    const first = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project], { cwd, faults: { beforeSend: refusingCandidateDrop } });
    expect(first.code).toBe(0);
    const after1 = await stateOf(secretId);
    expect(after1.stages[after1.currentId]).toContain(`ROTATION_CANDIDATE_${after1.currentId}`);

    const second = await secretsCli(['rotate', 'admin-token', '--yes', '--force', '--project', project], { cwd });

    expect(second.code).toBe(0);
    const after2 = await stateOf(secretId);
    expect(after2.currentId).not.toBe(after1.currentId);
    expect(after2.value).not.toBe(after1.value);
    expect(after2.stages[after1.currentId]).toEqual(['AWSPREVIOUS']);
    expect(Object.values(after2.stages).flat().filter((stage) => stage.startsWith('ROTATION_CANDIDATE_'))).toEqual([]);
    await tokenFiles(cwd);
  });

  it('never resumes a version that was current once, however many candidate labels were left behind', async () => {
    const { project, secretId, cwd } = await scenario();
    const seen = [T0];
    for (let i = 0; i < 4; i++) {
      const run = await secretsCli(['rotate', 'admin-token', '--yes', '--force', '--project', project], { cwd, faults: i < 3 ? { beforeSend: refusingCandidateDrop } : {} });
      expect(run.code).toBe(0);
      const now = await stateOf(secretId);
      expect(seen).not.toContain(now.value);
      seen.push(now.value);
    }
    const end = await stateOf(secretId);
    expect(Object.values(end.stages).flat().filter((stage) => stage.startsWith('ROTATION_CANDIDATE_'))).toEqual([]);
    await tokenFiles(cwd);
  });

  it('says the new version is current, never pending, when the switch lands and the immediate label after it is refused', async () => {
    const { project, secretId, cwd } = await scenario();
    const stopped = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project], { cwd, faults: { beforeSend: refusingStageMove('ROTATION_IMMEDIATE') } });

    const end = await stateOf(secretId);
    expect(stopped.code).toBe(1);
    expect(end.value).not.toBe(T0);
    expect(stopped.stderr).toContain(`Version ${end.currentId} of ${secretId} is AWSCURRENT; its token is in`);
    expect(stopped.stderr).not.toMatch(/pending, not current|old token still works/);
    // Immediate was asked for and did not happen: said, with what revokes the token replaced.
    expect(stopped.stderr).toContain(
      `, but it is not labelled ROTATION_IMMEDIATE: instances still accept the token it replaced for their grace window. To revoke that token now: secrets rotate admin-token --force (a new immediate rotation; the token of version ${end.currentId} is then refused too)`,
    );

    const revoked = await secretsCli(['rotate', 'admin-token', '--yes', '--force', '--project', project], { cwd });
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = await stateOf(secretId);
    expect(after.currentId).not.toBe(end.currentId);
    expect(after.stages[after.currentId]).toEqual(['AWSCURRENT', 'ROTATION_IMMEDIATE']);
    await tokenFiles(cwd);
  });

  it('warns that a cancel which ran as its switch landed cancelled nothing, and still exits 0', async () => {
    const { project, secretId, cwd } = await scenario();
    const cancel = localClient(cli.lsm);
    // `secrets rollback` cancelling this rotation: its AWSPENDING removal lands after finishSecret looked, before AWSCURRENT moves.
    const raced = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], {
      cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') {
            await cancel.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: input.MoveToVersionId as string }));
          }
        },
      },
    });

    const end = await stateOf(secretId);
    expect(raced.code).toBe(0);
    expect(end.value).toBe(raced.printed);
    expect(raced.stderr).toContain(`warning: the rotation is committed (AWSCURRENT of ${secretId} is now ${end.currentId}); AWSPENDING was already off version ${end.currentId} right after the switch`);
    expect(raced.stderr).toContain('A cancel that reported success cancelled nothing; to undo the rotation: secrets rollback admin-token');
  });

  it('warns, exits 0 and names the committed version when the log cannot be written or a notice fails', async () => {
    const { project, secretId, cwd } = await scenario();
    await mkdir(join(cwd, 'log-is-a-folder'));
    const { code, stdout, stderr } = await secretsCli(
      ['rotate', 'admin-token', '--yes', '--project', project, '--rotation-log', 'log-is-a-folder', '--notify', 'http://127.0.0.1:9', '--json'],
      { cwd },
    );
    expect(code).toBe(0);
    const end = await stateOf(secretId);
    const committed = `warning: the rotation is committed (AWSCURRENT of ${secretId} is now ${end.currentId})`;
    expect(stderr).toContain(`${committed}; could not append to ${join(cwd, 'log-is-a-folder')} (EISDIR)`);
    expect(stderr).toContain(`${committed}; http://127.0.0.1:9 did not refresh (HTTP unreachable)`);
    const summary = JSON.parse(stdout) as { toVersionId: string; warnings: string[]; tokenFile: string };
    expect(summary.toVersionId).toBe(end.currentId);
    expect(summary.warnings).toHaveLength(2);
    expect((await readFile(summary.tokenFile, 'utf8')).trim()).toBe(end.value);
  });

  it('refuses a --save-token path that exists before changing anything', async () => {
    const { project, secretId, cwd } = await scenario();
    await writeFile(join(cwd, 'taken.txt'), 'keep me\n');
    const { code, stderr } = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--save-token', 'taken.txt'], { cwd });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot create .*taken\.txt \(EEXIST\); nothing changed/);
    expect(await readFile(join(cwd, 'taken.txt'), 'utf8')).toBe('keep me\n');
    expect(Object.keys((await stateOf(secretId)).stages)).toHaveLength(1);
  });

  it('names the versions in its confirmation question', async () => {
    const { project, secretId, cwd } = await scenario();
    const before = await stateOf(secretId);
    const asked: string[] = [];
    const { code } = await secretsCli(['rotate', 'admin-token', '--project', project, '--print'], { cwd, confirm: async (q) => (asked.push(q), false) });
    expect(code).toBe(130);
    expect(asked).toEqual([`Rotate ${secretId} (immediate): AWSCURRENT ${before.currentId} -> a new version? The old token stops working as soon as instances refresh.`]);
  });
});

describe('secrets rotate meta-verify-token', () => {
  it('rotates the Meta verify token with the same steps into its own file and log, with the Meta checklist', async () => {
    const { project, cwd } = await scenario();
    const verifyId = whatsappSaasCatalog({ project }).entry('META_VERIFY_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: verifyId, SecretString: 'canary-rotate-verify-B5n6M7' }));
    scan.secret('canary-rotate-verify-B5n6M7');
    const service = await startStandInService(cli.lsm, project, ['ADMIN_TOKEN', 'META_VERIFY_TOKEN']);
    try {
      const { code, stdout } = await secretsCli(['rotate', 'meta-verify-token', '--yes', '--project', project, '--url', service.url, '--notify', service.url], { cwd });
      expect(code).toBe(0);
      const end = await stateOf(verifyId);
      expect((await readFile(join(cwd, `.meta-verify-token-new-${end.currentId}.txt`), 'utf8')).trim()).toBe(end.value);
      expect(stdout).toContain('New meta verify token saved to:');
      expect(stdout).toContain("Meta's App Dashboard");
      expect(stdout).toContain(`Notified ${service.url}: refreshed`);
      expect(JSON.parse(await readFile(join(cwd, 'meta-verify-token-rotation.log'), 'utf8'))).toMatchObject({ secretId: verifyId, toVersionId: end.currentId });
      expect(service.engine.status().secrets.META_VERIFY_TOKEN!.versionId).toBe(end.currentId);
      await tokenFiles(cwd);
    } finally {
      await service.close();
    }
  });
});

describe('secrets rotate admin-token: where a stopped rotation stands, said in one line', () => {
  const timeout = () => Object.assign(new Error('answer lost'), { name: 'TimeoutError' });

  it('says nothing changed, and leaves no reserved file, when Secrets Manager refuses the new version', async () => {
    const { project, secretId, cwd } = await scenario();
    const denied = await cli.denying(['PutSecretValue'], () => secretsCli(['rotate', 'admin-token', '--yes', '--project', project], { cwd }));

    expect(denied.code).toBe(1);
    expect(denied.stderr.trim()).toMatch(new RegExp(`^error: Access denied to ${secretId} \\(AccessDeniedException\\).*; nothing changed$`));
    expect(await tokenFiles(cwd)).toEqual({ tokens: [], reserved: [] });
    expect(Object.keys((await stateOf(secretId)).stages)).toHaveLength(1);
  });

  it('keeps the reserved file and says to run again when neither put of the new version got an answer, and the re-run resumes it', async () => {
    const { project, secretId, cwd } = await scenario();
    const argv = ['rotate', 'admin-token', '--yes', '--project', project];
    // Both puts land, neither answer comes back.
    const lost = await secretsCli(argv, { cwd, faults: { crashAt: 4, mode: 'after' } });

    expect(lost.code).toBe(1);
    const middle = await stateOf(secretId);
    // The version landed under its own label; it never took the claim.
    expect(middle.unfinishedId).toBeUndefined();
    const candidate = middle.candidateId!;
    const path = join(cwd, `.admin-token-new-${candidate}.txt`);
    expect(lost.stderr.trim()).toBe(
      `error: Creating version ${candidate} of ${secretId} got no clear answer (TimeoutError); it may exist: run the same command again to resume (${path} is reserved for version ${candidate})`,
    );
    expect((await tokenFiles(cwd)).reserved).toEqual([`.admin-token-new-${candidate}.txt`]);

    const asked: string[] = [];
    const rerun = await secretsCli([...argv.filter((a) => a !== '--yes'), '--json'], { cwd, confirm: async (q) => (asked.push(q), true) });

    expect(rerun.code).toBe(0);
    expect(asked).toEqual([
      `Resume the unfinished rotation of ${secretId} (immediate): AWSCURRENT ${middle.currentId} -> ${candidate}? The old token stops working as soon as instances refresh.`,
    ]);
    expect(rerun.stderr).toBe(`Resuming the rotation of ${secretId} to version ${candidate} (found reserved in ${path})\n`);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ resumed: true, fromVersionId: middle.currentId, toVersionId: candidate });
    const end = await stateOf(secretId);
    expect(end.currentId).toBe(candidate);
    expect((await readFile(path, 'utf8')).trim()).toBe(end.value);
    const log = await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8');
    scan.output(log);
    expect(JSON.parse(log)).toMatchObject({ action: 'rotate', toVersionId: end.currentId, resumed: true });
  });

  it('names the version to resume when --print handed nothing to a file, and resumes it from AWSPENDING', async () => {
    const { project, secretId, cwd } = await scenario();
    const argv = ['rotate', 'admin-token', '--yes', '--print', '--project', project];
    const lost = await secretsCli(argv, { cwd, faults: { crashAt: 4, mode: 'after' } });

    const middle = await stateOf(secretId);
    const candidate = middle.candidateId!;
    expect(lost.stderr.trim()).toBe(
      `error: Creating version ${candidate} of ${secretId} got no clear answer (TimeoutError); it may exist: run the same command again to resume version ${candidate}`,
    );

    const rerun = await secretsCli(argv, { cwd });

    expect(rerun.code).toBe(0);
    expect(rerun.stderr.split('\n')[0]).toBe(`Resuming the rotation of ${secretId} to version ${candidate} (found under its candidate label: a run stopped before claiming it)`);
    const end = await stateOf(secretId);
    expect(rerun.printed).toBe(end.value);
    expect(rerun.stderr).toContain(`Finished the rotation of ${secretId} (immediate): AWSCURRENT ${middle.currentId} -> ${candidate}`);
  });

  it('says the switch may or may not have happened when its answer is lost, and the re-run settles it', async () => {
    const { project, secretId, cwd } = await scenario();
    const argv = ['rotate', 'admin-token', '--yes', '--print', '--strategy', 'graceful', '--project', project];
    // The AWSCURRENT move is never sent, but its caller cannot know that.
    const lost = await secretsCli(argv, {
      cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') throw timeout();
        },
      },
    });

    expect(lost.code).toBe(1);
    const middle = await stateOf(secretId);
    expect(lost.stderr.trim()).toBe(
      `error: Finishing version ${middle.unfinishedId} of ${secretId} got no clear answer (TimeoutError): version ${middle.unfinishedId} may or may not be current now; run the same command again to settle it`,
    );

    const rerun = await secretsCli(argv, { cwd });

    expect(rerun.code).toBe(0);
    expect((await stateOf(secretId)).currentId).toBe(middle.unfinishedId);
  });

  it('says the version is pending and its token is in hand when the test against the service fails, offering a rollback', async () => {
    const { project, secretId, cwd } = await scenario();

    const failed = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--url', 'http://127.0.0.1:9'], { cwd });

    expect(failed.code).toBe(1);
    const middle = await stateOf(secretId);
    const path = join(cwd, `.admin-token-new-${middle.unfinishedId}.txt`);
    expect(failed.stderr.trim()).toBe(
      `error: Cannot read http://127.0.0.1:9/admin/secrets/health (TypeError). Version ${middle.unfinishedId} of ${secretId} is pending, not current: the old token still works; its token is in ${path}. Run the same command again to resume, or "secrets rollback admin-token" to cancel it`,
    );
  });
});

describe('secrets rotate admin-token: options and summary', () => {
  it('refuses a strategy the kind does not have, and --print with --save-token, before changing anything', async () => {
    const { project, secretId, cwd } = await scenario();

    const strategy = await secretsCli(['rotate', 'admin-token', '--yes', '--strategy', 'single-user', '--project', project], { cwd });
    const both = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--save-token', 't.txt', '--project', project], { cwd });

    expect([strategy.code, both.code]).toEqual([2, 2]);
    expect(strategy.stderr).toContain('--strategy must be immediate or graceful');
    expect(both.stderr).toContain('use --print or --save-token, not both');
    expect(Object.keys((await stateOf(secretId)).stages)).toHaveLength(1);
  });

  it('says the rotation was cancelled when the operator declines, changing nothing', async () => {
    const { project, secretId, cwd } = await scenario();

    const declined = await secretsCli(['rotate', 'admin-token', '--project', project, '--strategy', 'graceful'], { cwd, confirm: async (q) => !q.includes('Both tokens work during the grace window.') });

    expect(declined.code).toBe(130);
    expect(declined.stderr).toContain('Rotation cancelled; nothing changed');
    expect(await tokenFiles(cwd)).toEqual({ tokens: [], reserved: [] });
    expect(Object.keys((await stateOf(secretId)).stages)).toHaveLength(1);
  });

  it('summarises a rotation as JSON: versions, strategy, token file, no notices', async () => {
    const { project, secretId, cwd } = await scenario();
    const before = await stateOf(secretId);

    const { code, stdout } = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--json'], { cwd });

    expect(code).toBe(0);
    const after = await stateOf(secretId);
    expect(JSON.parse(stdout)).toEqual({
      secretId,
      strategy: 'immediate',
      fromVersionId: before.currentId,
      toVersionId: after.currentId,
      resumed: false,
      tokenFile: join(cwd, `.admin-token-new-${after.currentId}.txt`),
      notified: [],
      warnings: [],
    });
    const log = await readFile(join(cwd, 'admin-token-rotation.log'), 'utf8');
    scan.output(log);
    expect(JSON.parse(log)).toEqual({
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      action: 'rotate',
      secretId,
      fromVersionId: before.currentId,
      toVersionId: after.currentId,
      strategy: 'immediate',
      caller: 'arn:aws:iam::000000000000:user/test-operator',
    });
  });

  it('keeps stdout for the token alone with --print, even with --json', async () => {
    const { project, secretId, cwd } = await scenario();

    const { code, stdout, stderr } = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--json', '--project', project], { cwd });

    expect(code).toBe(0);
    const after = await stateOf(secretId);
    expect(stdout).toBe(`${after.value}\n`);
    expect(stderr).toContain(`Rotated ${secretId} (immediate)`);
  });
});

describe('secrets rotate: more of what it says and reads', () => {
  it('refuses an option its kind does not take before asking anything', async () => {
    const { project, secretId, cwd } = await scenario();
    let asked = false;

    const refused = await secretsCli(['rotate', 'admin-token', '--master-secret', 'm', '--project', project], { cwd, confirm: async () => ((asked = true), true) });

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('rotate admin-token takes no --master-secret');
    expect(asked).toBe(false);
    expect(Object.keys((await stateOf(secretId)).stages)).toHaveLength(1);
  });

  it("shows each --notify instance's answer in its summary lines", async () => {
    const { project, secretId, cwd } = await scenario();

    const { code, stdout, stderr } = await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', 'http://127.0.0.1:9'], { cwd });

    expect(code).toBe(0);
    const after = await stateOf(secretId);
    expect(stdout).toBe(`${after.value}\n`);
    expect(stderr).toContain(`: AWSCURRENT ${Object.keys(after.stages).find((id) => id !== after.currentId)} -> ${after.currentId}\nNotified http://127.0.0.1:9: failed (HTTP unreachable)\n\nPOST-ROTATION CHECKLIST`);
  });

  it('reads the admin token for the Meta verify token only to notify instances, and warns when it cannot', async () => {
    const { project, cwd } = await scenario();
    const catalog = whatsappSaasCatalog({ project });
    const verifyId = catalog.entry('META_VERIFY_TOKEN')!.awsId;
    const adminId = catalog.entry('ADMIN_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: verifyId, SecretString: 'canary-rotate-verify-C3v4' }));
    scan.secret('canary-rotate-verify-C3v4');
    const reads: string[] = [];
    const recordReads = async (_n: number, name: string, input: Record<string, unknown>) => {
      if (name === 'GetSecretValueCommand') reads.push(String(input.SecretId));
    };

    const quiet = await secretsCli(['rotate', 'meta-verify-token', '--yes', '--print', '--project', project], { cwd, faults: { beforeSend: recordReads } });
    expect(quiet.code).toBe(0);
    expect(reads).not.toContain(adminId);

    const denied = await secretsCli(['rotate', 'meta-verify-token', '--yes', '--print', '--force', '--project', project, '--notify', 'http://127.0.0.1:9', '--json'], {
      cwd,
      faults: {
        beforeSend: async (_n, name, input) => {
          if (name === 'GetSecretValueCommand' && input.SecretId === adminId) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        },
      },
    });

    expect(denied.code).toBe(0);
    const end = await stateOf(verifyId);
    expect(denied.stderr).toContain(
      `warning: the rotation is committed (AWSCURRENT of ${verifyId} is now ${end.currentId}); could not read the admin token to notify instances (ACCESS_DENIED)\n`,
    );
  });

  it('refuses a secret without a current value after asking, and leaves no reserved file behind', async () => {
    const project = 'rot-no-current';
    const secretId = whatsappSaasCatalog({ project }).entry('ADMIN_TOKEN')!.awsId;
    await localClient(cli.lsm).send(new CreateSecretCommand({ Name: secretId }));
    const cwd = await mkdtemp(join(tmpdir(), 'secrets-rotation-'));
    const asked: string[] = [];

    const { code, stderr } = await secretsCli(['rotate', 'admin-token', '--project', project], { cwd, confirm: async (q) => (asked.push(q), true) });

    expect(code).toBe(1);
    expect(asked).toEqual([`Rotate ${secretId} (immediate): AWSCURRENT - -> a new version? The old token stops working as soon as instances refresh.`]);
    expect(stderr).toBe(`error: ${secretId} has no AWSCURRENT value to rotate from; nothing changed\n`);
    expect(await tokenFiles(cwd)).toEqual({ tokens: [], reserved: [] });
  });

  it('refuses to overwrite a token file that something else wrote into while the version was created', async () => {
    const { project, secretId, cwd } = await scenario();

    const taken = await secretsCli(['rotate', 'admin-token', '--yes', '--project', project, '--save-token', 'tok.txt'], {
      cwd,
      faults: {
        beforeSend: async (_n, name) => {
          if (name === 'PutSecretValueCommand') await writeFile(join(cwd, 'tok.txt'), 'written by someone else\n');
        },
      },
    });

    expect(taken.code).toBe(1);
    const middle = await stateOf(secretId);
    expect(taken.stderr).toContain(`error: ${join(cwd, 'tok.txt')} holds something other than the token of version ${middle.unfinishedId}; not overwritten. Version ${middle.unfinishedId} of ${secretId} is pending`);
    expect(await readFile(join(cwd, 'tok.txt'), 'utf8')).toBe('written by someone else\n');
  });
});


/**
 * Defect 2 of issue 15: the CLI planned before it asked, so two operators answering at about the
 * same time both started a new rotation and were each handed a token. Now nothing is claimed
 * before the answer, and of the two claims taken after it exactly one wins.
 */
describe('secrets rotate admin-token: two operators confirming at the same time', () => {
  it('hands exactly one token over, which is AWSCURRENT; the other run changes nothing and names the rotation to resume', async () => {
    const { project, secretId } = await scenario();
    const cwds = [await mkdtemp(join(tmpdir(), 'secrets-op1-')), await mkdtemp(join(tmpdir(), 'secrets-op2-'))];
    // Both are asked (both plans are made) before either answers.
    let asked = 0;
    let bothAsked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothAsked = resolve));
    const confirm = async () => {
      if (++asked === 2) bothAsked();
      await barrier;
      return true;
    };

    const runs = await Promise.all(cwds.map((cwd) => secretsCli(['rotate', 'admin-token', '--project', project], { cwd, confirm })));

    expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
    const end = await stateOf(secretId);
    const tokens = [...(await tokenFiles(cwds[0]!)).tokens, ...(await tokenFiles(cwds[1]!)).tokens];
    expect(tokens).toEqual([end.value]);
    for (const cwd of cwds) expect((await tokenFiles(cwd)).reserved).toEqual([]);
    const loser = runs.find((r) => r.code !== 0)!;
    expect(loser.stderr).toContain(`version ${end.currentId} holds its claim (AWSPENDING)`);
    expect(loser.stderr).toContain(`Run "secrets rotate admin-token" to resume version ${end.currentId}`);
    expect(end.unfinishedId).toBeUndefined();
  });
});
