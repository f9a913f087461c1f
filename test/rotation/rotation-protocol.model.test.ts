import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freshlyAccepted,
  GRACE_MS,
  logsIn,
  NAME_OF,
  passwordOf,
  rotateByFunction,
  secrets,
  startProtocolWorld,
  stateOf,
  type CliResult,
  type CredentialKind,
  type Kind,
  type Project,
  type ProtocolWorld,
  type SecretState,
  type TokenKind,
} from './support/protocol-world.js';
import { Interleaving, type Turns } from './support/interleaving.js';

/**
 * The rotation protocol, proven over interleavings rather than examples (issue 15). fast-check
 * generates short sequences of actors; each runs against one project of a shared world (the
 * local Secrets Manager, a scram PostgreSQL, a Redis with ACL users, one fake clock), and every
 * invariant is checked after every step. Actors: `secrets rotate` for each kind and strategy
 * (crashed at any AWS call, before or after it lands), the rotation function through RotateSecret
 * (dying before any step), a resume (any later rotate finds the unfinished version), `setup
 * --from-env` with the file it was first run with, `rollback`, the clock moving, and two rotations
 * at once with their calls interleaved by fc.scheduler: Secrets Manager calls, and the logins, SQL
 * statements and Redis commands of their credential clients (support/interleaving.ts).
 *
 * INTERLEAVING_RUNS (npm run test:interleavings -- --runs N) sets the number of runs of each
 * property; the default keeps the file near a minute on a quiet machine with 1,000 in all.
 */
const TOTAL_RUNS = Number(process.env.INTERLEAVING_RUNS ?? 1_000);
const CREDENTIAL_RUNS = Math.max(1, Math.round(TOTAL_RUNS * 0.15));
const TOKEN_RUNS = Math.max(1, TOTAL_RUNS - CREDENTIAL_RUNS);
/** A failure prints the command that replays it (INTERLEAVING_ONLY, _SEED, _PATH and _REPLAY_PATH). */
const SEED = process.env.INTERLEAVING_SEED === undefined ? undefined : Number(process.env.INTERLEAVING_SEED);
const PATH = process.env.INTERLEAVING_PATH;
/** The commands' own replay path (printed as replayPath="..." after the counterexample): a shrunk path replays only with it. */
const REPLAY_PATH = process.env.INTERLEAVING_REPLAY_PATH;
/** One property only (`tokens` or `passwords`): a seed and path replay the property that printed them. */
const ONLY = process.env.INTERLEAVING_ONLY;
if (ONLY !== undefined && ONLY !== 'tokens' && ONLY !== 'passwords') throw new Error('INTERLEAVING_ONLY is tokens or passwords');
/** Actors left out (comma-separated; `overlap`: two rotations at once; `setup-overlap`: setup beside a rotation; `rollback-overlap`: a password's rollback beside its rotation), to look past a known failure. */
const WITHOUT = new Set((process.env.INTERLEAVING_WITHOUT ?? '').split(',').filter((x) => x !== ''));
const PROFILE = new Map<string, number>();
const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  try {
    return await work();
  } finally {
    PROFILE.set(label, (PROFILE.get(label) ?? 0) + performance.now() - t);
  }
};
/** A bound, not a budget: a long run (or a loaded machine) gets a second per run. */
const TIMEOUT_MS = Math.max(600_000, TOTAL_RUNS * 1_000);
const TOKEN_KINDS: readonly TokenKind[] = ['admin-token', 'meta-verify-token'];
const CREDENTIAL_KINDS: readonly CredentialKind[] = ['database-password', 'redis-password'];
const isToken = (k: Kind): k is TokenKind => k === 'admin-token' || k === 'meta-verify-token';

let world: ProtocolWorld;
beforeAll(async () => {
  world = await startProtocolWorld();
}, 60_000);
afterAll(async () => {
  if (process.env.INTERLEAVING_PROFILE !== undefined) console.log(Object.fromEntries([...PROFILE].map(([k, v]) => [k, Math.round(v)])));
  await world?.close();
});

interface Model {
  readonly kinds: readonly Kind[];
  /** Tokens an immediate rotation or a rollback revoked: no freshly started engine may accept them. */
  readonly revoked: Map<Kind, Set<string>>;
  /** The previous token of the latest graceful switch, and when AWSCURRENT moved. */
  readonly grace: Map<Kind, { readonly token: string; readonly switchAtMs: number } | undefined>;
  /** The value an immediate rotation or rollback moved away from but did not report done: revoked once a re-run does. */
  readonly unsettled: Map<Kind, { readonly token: string; readonly versionId: string } | undefined>;
}

interface Real {
  readonly world: ProtocolWorld;
  readonly p: Project;
  /** The values of this run, for the output scan. */
  readonly values: Set<string>;
  /** The labels after the last step: nothing else changes them between steps. */
  last?: Map<Kind, SecretState>;
}

/** What one actor did: its outputs, tokens it handed over, and how its effect on labels is to be judged. */
interface Acted {
  readonly outputs: readonly string[];
  readonly handed: readonly { readonly token: string; readonly code: number }[];
  /** How a move of AWSCURRENT by this actor treats the value it moved from (`setup-write`: setup wrote a changed value). */
  readonly effect: 'immediate' | 'graceful' | 'rollback' | 'setup' | 'setup-write' | 'none';
  /** The value the switch moved from, when it is not the one current before the step (setup wrote it in between). */
  readonly replaced?: string;
  /** It reported success (exit 0; the function's rotation succeeded). */
  readonly ok: boolean;
}

type Actor = (m: Model, r: Real) => Promise<Acted>;

const printed = (res: CliResult): { token: string; code: number }[] => {
  const first = res.stdout.split('\n')[0] ?? '';
  return /^[A-Za-z0-9_-]{40,}$/.test(first) ? [{ token: first, code: res.code }] : [];
};

/** The CLI's rotate, crashed at AWS call `crashAt` (the call is lost before it is sent, or lands and its answer is lost). */
function cliRotate(kind: Kind, strategy: string, crash: { at: number; mode: 'before' | 'after' } | undefined, turns?: Turns): Actor {
  return async (_m, r) => {
    const alone = crash === undefined && turns === undefined;
    const argv = ['rotate', kind, '--yes', '--force', '--strategy', strategy, ...(isToken(kind) ? ['--print'] : ['--master-secret', kind === 'database-password' ? r.p.masters.database : r.p.masters.redis])];
    const res = await secrets(r.world, r.p, argv, { ...(crash !== undefined && { faults: { crashAt: crash.at, mode: crash.mode } }), ...(turns !== undefined && { turns }) });
    const handed = isToken(kind) ? printed(res) : [];
    // Alone and uncrashed, a rotation always gets through: whatever an earlier run left, it resumes or repairs it.
    expect(alone ? res.code : 0, `secrets rotate ${kind} alone: ${res.stderr.split('\n')[0] ?? ''}`).toBe(0);
    return { outputs: [res.stderr, handed.length > 0 ? res.stdout.split('\n').slice(1).join('\n') : res.stdout], handed, effect: strategy === 'immediate' ? 'immediate' : 'graceful', ok: res.code === 0 };
  };
}

function functionRotate(kind: Kind, failAt: string | undefined): Actor {
  return async (_m, r) => {
    const res = await rotateByFunction(r.world, r.p, kind, failAt);
    return { outputs: [res.error ?? ''], handed: [], effect: 'graceful', ok: res.ok };
  };
}

function setup(): Actor {
  return async (_m, r) => {
    const res = await secrets(r.world, r.p, ['setup', '--from-env', 'first.env', '--yes', '--policies-dir', 'policies']);
    return { outputs: [res.stdout, res.stderr], handed: [], effect: 'setup', ok: res.code === 0 };
  };
}

/** `secrets rollback`: tokens move their labels back; passwords only where it is safe (the CLI decides and says so). */
function rollback(kind: Kind): Actor {
  return async (_m, r) => {
    const res = await secrets(r.world, r.p, ['rollback', kind, '--yes', ...(kind === 'redis-password' ? ['--master-secret', r.p.masters.redis] : [])]);
    return { outputs: [res.stdout, res.stderr], handed: [], effect: 'rollback', ok: res.code === 0 };
  };
}

/**
 * Two actors at once (see support/interleaving.ts): their Secrets Manager calls and their
 * credential clients' logins, SQL statements and Redis commands released one at a time, in the
 * order the scheduler draws, until both settle. `b` may be a run already started whose calls are
 * not scheduled (the rotation function behind RotateSecret): it runs free, beside `a`'s calls.
 */
async function together<A, B>(s: fc.Scheduler, a: (turns: Turns) => Promise<A>, b: ((turns: Turns) => Promise<B>) | Promise<B>): Promise<[A, B]> {
  const interleaving = new Interleaving(s);
  const first = interleaving.start(a);
  return interleaving.until(Promise.all([first, typeof b === 'function' ? interleaving.start(b) : b]));
}

/** Two rotations of one secret at once, their calls released in an order the scheduler draws. */
function concurrently(kind: Kind, strategy: string, second: 'cli' | 'function', s: fc.Scheduler): Actor {
  return async (m, r) => {
    const [x, y] = await together(
      s,
      (turns) => cliRotate(kind, strategy, undefined, turns)(m, r),
      second === 'cli' ? (turns) => cliRotate(kind, strategy, undefined, turns)(m, r) : functionRotate(kind, undefined)(m, r),
    );
    const outputs = [...x.outputs, ...y.outputs];
    const ok = x.ok || y.ok;
    if (x.ok && y.ok && isToken(kind)) {
      // Both succeeded: they finished one version (one resumed the other's), or one ran whole
      // after the other had finished, and its switch replaced the value the first handed over.
      // The step is then the later switch, from AWSPREVIOUS: the earlier run's token is that
      // value, and what is held to AWSCURRENT is what the later run handed over.
      const after = await stateOf(r.world, r.p.ids[kind]);
      const replaced = (await r.world.client.send(new GetSecretValueCommand({ SecretId: r.p.ids[kind], VersionStage: 'AWSPREVIOUS' }))).SecretString;
      const xLast = second === 'cli' || x.handed.some((h) => h.token === after.currentValue);
      const handed = [...x.handed, ...y.handed].filter((h) => h.token === after.currentValue || h.token !== replaced);
      return { outputs, handed, effect: xLast ? x.effect : 'graceful', ok, ...(replaced !== undefined && { replaced }) };
    }
    // Whose switch it was: a CLI run that succeeded applied its strategy (it finished, or found
    // the other's version current and completed its label); otherwise the function's, graceful.
    const effect = x.ok || (second === 'cli' && y.ok) ? x.effect : 'graceful';
    return { outputs, handed: [...x.handed, ...y.handed], effect, ok };
  };
}

/**
 * `secrets setup --from-env` with a changed token (an operator replacing it on purpose) while a
 * rotation of it runs, their AWS calls interleaved. Setup moves AWSCURRENT to its value only from
 * the version it looked at: a rotation that finished first is `kept`, never reverted (the handed
 * token stays AWSCURRENT); a setup that wrote first makes the rotation's finish fail as a
 * conflict, or the rotation starts from setup's value and replaces it.
 */
function setupBesideRotate(kind: TokenKind, strategy: string, s: fc.Scheduler): Actor {
  return async (m, r) => {
    const changed = `model-changed-${kind}-${randomBytes(24).toString('base64url')}`;
    r.values.add(changed);
    const file = `changed-${randomBytes(4).toString('hex')}.env`;
    await writeFile(join(r.p.cwd, file), `${NAME_OF[kind]}=${changed}\n`);
    const before = await stateOf(r.world, r.p.ids[kind]);
    const [rot, set] = await together(
      s,
      (turns) => cliRotate(kind, strategy, undefined, turns)(m, r),
      (turns) => secrets(r.world, r.p, ['setup', '--from-env', file, '--yes', '--json', '--policies-dir', 'policies'], { turns }),
    );
    const row = (JSON.parse(set.stdout) as { secrets: { name: string; action: string }[] }).secrets.find((x) => x.name === NAME_OF[kind]);
    expect(['updated', 'kept'], `setup beside a rotation: ${set.stderr.split('\n').slice(-3).join(' ')}`).toContain(row?.action);
    const after = await stateOf(r.world, r.p.ids[kind]);
    // Kept: setup wrote nothing over what is current. Updated and the rotation failed: setup's value is current.
    if (row?.action === 'kept') expect(after.currentValue, 'setup reported kept but its value is current').not.toBe(changed);
    if (row?.action === 'updated' && !rot.ok) expect(after.currentValue, 'setup reported updated, the rotation failed, and setup\'s value is not current').toBe(changed);
    const wrote = row?.action === 'updated';
    // Both succeeded: setup's write came first and the rotation replaced it.
    return {
      outputs: [...rot.outputs, set.stderr],
      handed: rot.handed,
      effect: rot.ok ? rot.effect : wrote ? 'setup-write' : 'none',
      ok: rot.ok,
      ...(rot.ok && wrote && after.currentValue !== before.currentValue && { replaced: changed }),
    };
  };
}

/**
 * `secrets rollback` of a database or Redis password while a rotation of it runs, their calls
 * interleaved (Secrets Manager's, and each login, ALTER ROLE and ACL SETUSER at the server). A
 * same-user rollback changes the server too (it is a rotation back to the previous password), so
 * the two must never both reach the server: whichever claims the secret first goes on, and the
 * AWSCURRENT password (or the pending one) still logs in after.
 */
function rollbackBesideRotate(kind: CredentialKind, strategy: string, s: fc.Scheduler): Actor {
  return async (m, r) => {
    const [rot, rb] = await together(
      s,
      (turns) => cliRotate(kind, strategy, undefined, turns)(m, r),
      (turns) => secrets(r.world, r.p, ['rollback', kind, '--yes', ...(kind === 'redis-password' ? ['--master-secret', r.p.masters.redis] : [])], { turns }),
    );
    return { outputs: [...rot.outputs, rb.stdout, rb.stderr], handed: [], effect: 'none', ok: rot.ok || rb.code === 0 };
  };
}

async function states(r: Real, kinds: readonly Kind[]): Promise<Map<Kind, SecretState>> {
  const out = new Map<Kind, SecretState>();
  const read = await Promise.all(kinds.map((k) => stateOf(r.world, r.p.ids[k])));
  kinds.forEach((k, i) => {
    const s = read[i]!;
    for (const v of [s.currentValue, s.unfinishedValue]) {
      if (v === undefined || v === '') continue;
      r.values.add(v);
      r.values.add(passwordOf(v));
    }
    out.set(k, s);
  });
  r.last = out;
  return out;
}

/**
 * What the model learns from a step of a token's actor. An immediate rotation or a rollback
 * revokes the value it moved away from once it reports success: one stopped between its label
 * moves is not done (its value is accepted as after a graceful switch until a re-run completes
 * it), and the re-run that reports success revokes it then. A graceful switch opens the window.
 */
function learn(m: Model, k: Kind, b: SecretState, a: SecretState, acted: Acted, nowMs: number): void {
  const revoked = m.revoked.get(k)!;
  const from = acted.replaced ?? b.currentValue;
  // A resumed rotation keeps the strategy it was begun with (its version carries ROTATION_IMMEDIATE).
  const effect = acted.effect === 'graceful' && b.unfinishedId === a.currentId && b.unfinishedStages.includes('ROTATION_IMMEDIATE') ? 'immediate' : acted.effect;
  const revoking = effect === 'immediate' || effect === 'rollback';
  if (a.currentId !== b.currentId) {
    revoked.delete(a.currentValue);
    m.unsettled.set(k, undefined);
    m.grace.set(k, effect === 'graceful' ? { token: from, switchAtMs: nowMs } : undefined);
    if (revoking && acted.ok) revoked.add(from);
    else if (revoking) m.unsettled.set(k, { token: from, versionId: a.currentId });
    return;
  }
  // Only a rotation's re-run completes an immediate switch; a rollback that cancels another
  // unfinished rotation leaves it as it was.
  const unsettled = m.unsettled.get(k);
  if (unsettled !== undefined && unsettled.versionId === a.currentId && effect === 'immediate' && acted.ok) {
    revoked.add(unsettled.token);
    m.unsettled.set(k, undefined);
  }
}

/** One step: the actor, then every invariant, then what the model learns from it. */
async function step(m: Model, r: Real, kind: Kind | undefined, actor: Actor): Promise<void> {
  const before = r.last ?? (await timed('states', () => states(r, m.kinds)));
  const logsBefore = r.world.functionLogs().length;
  const acted = await timed('actor', () => actor(m, r));
  const after = await timed('states', () => states(r, m.kinds));
  const nowMs = r.world.clock.now();

  // No value in any output (the token --print hands over is the one value stdout may carry).
  const text = [...acted.outputs, r.world.functionLogs().slice(logsBefore)].join('\n');
  for (const v of r.values) expect(text.includes(v), 'a secret value appeared in an output').toBe(false);

  for (const k of m.kinds) {
    const b = before.get(k)!;
    const a = after.get(k)!;
    // setup never moves AWSCURRENT: every secret of the run was created as setup's file says, so
    // any other value is a rotation's (or a rollback's), and the file's is already current otherwise.
    if (acted.effect === 'setup') expect(a.currentId, `setup moved AWSCURRENT of ${k}`).toBe(b.currentId);
    if (!isToken(k)) {
      // The AWSCURRENT credential logs in; while a rotation is unfinished its pending one may be
      // the one the resource holds (single-user between setSecret and finishSecret: a resume finishes it).
      const current = await logsIn(k, a.currentValue);
      const pending = !current && a.unfinishedValue !== undefined && (await logsIn(k, a.unfinishedValue));
      expect(current || pending, `neither the AWSCURRENT nor the pending ${k} logs in`).toBe(true);
    }
    if (kind === k && isToken(k)) learn(m, k, b, a, acted, nowMs);
    else if (a.currentId !== b.currentId) m.grace.set(k, undefined);
  }

  // Every token handed over is AWSCURRENT, or pending and reported as not applied (a failed exit).
  if (kind !== undefined && isToken(kind)) {
    const a = after.get(kind)!;
    for (const h of acted.handed) {
      const current = h.token === a.currentValue;
      const pendingNotApplied = h.token === a.unfinishedValue && h.code !== 0;
      expect(current || pendingNotApplied, `a ${kind} handed over (exit ${h.code}) is neither AWSCURRENT nor a pending one reported as not applied`).toBe(true);
    }
  }

  // A freshly started engine, when there is something to hold it to.
  const tokenKinds = m.kinds.filter((k) => isToken(k) && (m.revoked.get(k)!.size > 0 || m.grace.get(k) !== undefined)) as TokenKind[];
  if (tokenKinds.length > 0) {
    const accepted = await timed('engine', () => freshlyAccepted(r.world, r.p, tokenKinds));
    if (process.env.INTERLEAVING_DEBUG !== undefined && tokenKinds.some((k) => [...m.revoked.get(k)!].some((t) => accepted[NAME_OF[k]]!.includes(t)))) {
      const { ListSecretVersionIdsCommand } = await import('@aws-sdk/client-secrets-manager');
      for (const k of tokenKinds) {
        const vs = (await r.world.client.send(new ListSecretVersionIdsCommand({ SecretId: r.p.ids[k] }))).Versions ?? [];
        const tag = (v: string) => [...r.values].indexOf(v);
        console.log(JSON.stringify({ k, out: acted.outputs.join(' | ').slice(0, 600), ok: acted.ok, vs: vs.map((v) => [v.VersionId?.slice(0, 8), v.VersionStages]), revoked: [...m.revoked.get(k)!].map(tag), accepted: accepted[NAME_OF[k]]!.map(tag), cur: tag(after.get(k)!.currentValue) }));
      }
    }
    for (const k of tokenKinds) {
      const now = accepted[NAME_OF[k]]!;
      for (const t of m.revoked.get(k)!) expect(now.includes(t), `a freshly started engine accepts a revoked ${k}`).toBe(false);
      const g = m.grace.get(k);
      if (g !== undefined) expect(now.includes(g.token), `the previous ${k} of a graceful switch at ${g.switchAtMs}, now ${nowMs}: accepted within ${GRACE_MS} ms of the switch only`).toBe(nowMs < g.switchAtMs + GRACE_MS);
    }
  }
}

class ActorCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    private readonly label: string,
    private readonly kind: Kind | undefined,
    private readonly actor: Actor,
    private readonly scheduler?: fc.Scheduler,
  ) {}
  check = (m: Readonly<Model>) => this.kind === undefined || m.kinds.includes(this.kind);
  run = (m: Model, r: Real) => step(m, r, this.kind, this.actor);
  // The scheduler's report lists the calls of both actors (#1, #2) in the order it released them.
  toString = () => (this.scheduler === undefined ? this.label : `${this.label} ${String(this.scheduler)}`);
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(private readonly minutes: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.world.clock.advance(this.minutes * 60_000);
    await step(m, r, undefined, async () => ({ outputs: [], handed: [], effect: 'none', ok: true }));
  }
  toString = () => `advance ${this.minutes} min`;
}

const crashArb = fc.option(fc.record({ at: fc.integer({ min: 1, max: 12 }), mode: fc.constantFrom('before' as const, 'after' as const) }), { freq: 2 });
const stepArb = fc.option(fc.constantFrom('createSecret', 'setSecret', 'testSecret', 'finishSecret'), { freq: 2 });
const strategyOf = (kind: Kind) => fc.constantFrom(...(isToken(kind) ? ['immediate', 'graceful'] : kind === 'database-password' ? ['single-user', 'alternating-users'] : ['single-user']));

function commandsFor(kinds: readonly Kind[]) {
  const kind = fc.constantFrom(...kinds);
  const crashText = (c: { at: number; mode: string } | null) => (c === null ? '' : ` (crash at AWS call ${c.at}, ${c.mode} it lands)`);
  const rotate = kind.chain((k) =>
    fc.tuple(strategyOf(k), crashArb).map(([s, c]) => new ActorCommand(`secrets rotate ${k} --strategy ${s}${crashText(c)}`, k, cliRotate(k, s, c ?? undefined))),
  );
  const byFunction = fc.tuple(kind, stepArb).map(([k, f]) => new ActorCommand(`RotateSecret ${k}${f === null ? '' : ` (the function dies before ${f})`}`, k, functionRotate(k, f ?? undefined)));
  const advance = fc.constantFrom(10, 30, 59, 61).map((n) => new AdvanceCommand(n));
  // fc.commands draws each command from one of these alike: repeats weigh the rotations (and the
  // clock between a stop and its resume) above the rest, where the protocol's states are.
  return [
    rotate,
    rotate,
    rotate,
    byFunction,
    byFunction,
    advance,
    fc.constant(new ActorCommand('secrets setup --from-env first.env --yes', undefined, setup())),
    kind.map((k) => new ActorCommand(`secrets rollback ${k}`, k, rollback(k))),
    advance,
    ...(WITHOUT.has('overlap') ? [] : [kind.chain((k) =>
      fc
        .tuple(strategyOf(k), fc.constantFrom('cli' as const, 'function' as const), fc.scheduler())
        .map(([s, second, sched]) => new ActorCommand(`two at once: secrets rotate ${k} --strategy ${s} and ${second === 'cli' ? 'another secrets rotate' : 'RotateSecret'}`, k, concurrently(k, s, second, sched), sched)),
    )]),
    ...(WITHOUT.has('rollback-overlap') ? [] : kinds.filter((k): k is CredentialKind => !isToken(k)).map((k) =>
      fc
        .tuple(strategyOf(k), fc.scheduler())
        .map(([s, sched]) => new ActorCommand(`at once: secrets rollback ${k} and secrets rotate ${k} --strategy ${s}`, k, rollbackBesideRotate(k, s, sched), sched)),
    )),
    ...(WITHOUT.has('setup-overlap') ? [] : kinds.filter(isToken).map((k) =>
      fc
        .tuple(strategyOf(k), fc.scheduler())
        .map(([s, sched]) => new ActorCommand(`at once: secrets setup --from-env a file with a changed ${k} and secrets rotate ${k} --strategy ${s}`, k, setupBesideRotate(k, s, sched), sched)),
    )),
  ];
}

/** Each run takes one of `kindSets` (one token per run keeps a run short), and up to `maxCommands` actors. */
async function runModel(property: 'tokens' | 'passwords', kindSets: readonly (readonly Kind[])[], numRuns: number, maxCommands: number): Promise<void> {
  const runs = fc.constantFrom(...kindSets).chain((kinds) => fc.tuple(fc.constant(kinds), fc.commands(commandsFor(kinds), { maxCommands, ...(REPLAY_PATH !== undefined && { replayPath: REPLAY_PATH }) })));
  const out = await fc.check(
    fc.asyncProperty(runs, async ([kinds, cmds]) => {
      const p = await timed('project', () => world.newProject(kinds));
      const model: Model = { kinds, revoked: new Map(kinds.map((k) => [k, new Set<string>()])), grace: new Map(), unsettled: new Map() };
      await fc.asyncModelRun(() => ({ model, real: { world, p, values: new Set(p.values) } }), cmds);
    }),
    { numRuns, ...(SEED !== undefined && { seed: SEED }), ...(PATH !== undefined && { path: PATH }) },
  );
  if (!out.failed) return;
  // The command that replays exactly this shrunk counterexample: the commands' replay path is
  // printed inside it, and without it a shrunk path does not replay.
  const replayPath = /replayPath="([^"]*)"/.exec(String(out.counterexample))?.[1];
  const replay = `npm run test:interleavings -- --only ${property} --seed ${out.seed} --path ${out.counterexamplePath ?? ''}${replayPath === undefined ? '' : ` --replay-path ${replayPath}`}`;
  throw new Error(`${fc.defaultReportMessage(out) ?? 'the property failed'}\n\nReplay it: ${replay}`, { cause: out.errorInstance });
}

const only = (property: 'tokens' | 'passwords') => (ONLY === undefined || ONLY === property ? it : it.skip);

describe('the rotation protocol under interleavings of its actors', () => {
  only('tokens')(`holds every invariant after every step of ${TOKEN_RUNS} runs over the tokens`, async () => {
    await runModel('tokens', TOKEN_KINDS.map((k) => [k]), TOKEN_RUNS, 4);
  }, TIMEOUT_MS);

  only('passwords')(`holds every invariant after every step of ${CREDENTIAL_RUNS} runs over the database and Redis passwords`, async () => {
    await runModel('passwords', [CREDENTIAL_KINDS], CREDENTIAL_RUNS, 3);
  }, TIMEOUT_MS);
});
