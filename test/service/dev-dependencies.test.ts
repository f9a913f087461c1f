import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevDependencies } from '../../src/service/dev-dependencies.js';
import type { EmbeddedPostgresOptions, RunningPostgres } from '../../src/service/embedded-postgres.js';
import { DevDependencyError } from '../../src/service/errors.js';
import type { TcpProbeResult } from '../../src/service/tcp-probe.js';
import { captureLogger } from '../support/capture-logger.js';

/** The DATABASE_URL `npm run dev` writes into a new .env in these tests (its .env.example's). */
const BOOTSTRAP_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5999/whatsapp_saas';
const DEFAULT_ENV = `DATABASE_URL=${BOOTSTRAP_DATABASE_URL}\nREDIS_URL=redis://127.0.0.1:6999\n`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dev-deps-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function envFile(content: string): Promise<string> {
  const folder = await mkdtemp(join(dir, 'env-'));
  const path = join(folder, '.env');
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

/** A fake embedded PostgreSQL that records how it was started and stopped. */
function fakePostgres(outcome: 'start' | 'fail' = 'start') {
  const calls: EmbeddedPostgresOptions[] = [];
  let stops = 0;
  const start = async (options: EmbeddedPostgresOptions): Promise<RunningPostgres> => {
    calls.push(options);
    if (outcome === 'fail') throw new DevDependencyError('embedded PostgreSQL failed to initialise: initdb: error: could not create directory');
    return { majorVersion: '15', created: true, stop: async () => void stops++ };
  };
  return { start, calls, stops: () => stops };
}

const probeSays = (result: TcpProbeResult) => async () => result;

describe('startDevDependencies', () => {
  it('starts an embedded PostgreSQL at the default address when nothing listens there, its data beside the .env, and says so in one line', async () => {
    const path = await envFile(DEFAULT_ENV);
    const pg = fakePostgres();
    const logger = captureLogger();

    const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: path, env: {}, logger, cwd: join(path, '..'), probe: probeSays('refused'), startPostgres: pg.start });

    expect(deps.embeddedPostgres).toBe(true);
    expect(pg.calls).toEqual([{ host: '127.0.0.1', port: 5999, dataDir: join(path, '..', '.dev-data', 'postgres') }]);
    const lines = logger.lines.filter((l) => l.obj.event === 'database.embedded_started');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe('No PostgreSQL at 127.0.0.1:5999: started an embedded PostgreSQL 15 there, data in .dev-data/postgres (created now)');
  });

  it('starts no embedded PostgreSQL for a DATABASE_URL npm run dev did not write (a typo in the port), and names where nothing answers', async () => {
    const path = await envFile('DATABASE_URL=postgresql://postgres@127.0.0.1:5998/whatsapp_saas\nREDIS_URL=redis://127.0.0.1:6999\n');
    const pg = fakePostgres();
    const logger = captureLogger();

    const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: path, env: {}, logger, probe: probeSays('refused'), startPostgres: pg.start });

    expect(deps.embeddedPostgres).toBe(false);
    expect(pg.calls).toEqual([]);
    const lines = logger.lines.filter((l) => l.obj.event === 'database.not_embedded');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.obj).toMatchObject({ host: '127.0.0.1', port: 5998 });
    expect(lines[0]!.msg).toBe(
      'No PostgreSQL at 127.0.0.1:5998 (DATABASE_URL in the .env): npm run dev starts an embedded PostgreSQL only for the DATABASE_URL it wrote itself (127.0.0.1:5999); start PostgreSQL at 127.0.0.1:5998 or correct DATABASE_URL',
    );
  });

  it('stops the embedded PostgreSQL when asked', async () => {
    const pg = fakePostgres();
    const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: await envFile(DEFAULT_ENV), env: {}, logger: captureLogger(), probe: probeSays('refused'), startPostgres: pg.start });

    await deps.stop();

    expect(pg.stops()).toBe(1);
  });

  it('leaves a PostgreSQL or Redis that answers, or might, alone', async () => {
    for (const result of ['open', 'unknown'] as const) {
      const pg = fakePostgres();
      const logger = captureLogger();

      const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: await envFile(DEFAULT_ENV), env: {}, logger, probe: probeSays(result), startPostgres: pg.start });

      expect(pg.calls).toEqual([]);
      expect(deps).toMatchObject({ embeddedPostgres: false, singleInstance: false });
      expect(logger.lines).toEqual([]);
    }
  });

  it('never stands in for a URL set in the environment or with credentials, even with nothing listening', async () => {
    const pg = fakePostgres();
    const logger = captureLogger();
    const explicit = await envFile('DATABASE_URL=postgresql://postgres:pw@127.0.0.1:5999/whatsapp_saas\nREDIS_URL=redis://:pw@127.0.0.1:6999\n');

    const fromFile = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: explicit, env: {}, logger, probe: probeSays('refused'), startPostgres: pg.start });
    const fromEnv = await startDevDependencies({
      bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL,
      envFile: await envFile(DEFAULT_ENV),
      env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5999/whatsapp_saas', REDIS_URL: 'redis://127.0.0.1:6999' },
      logger,
      probe: probeSays('refused'),
      startPostgres: pg.start,
    });

    expect(pg.calls).toEqual([]);
    expect([fromFile.singleInstance, fromEnv.singleInstance]).toEqual([false, false]);
    expect(logger.lines).toEqual([]);
  });

  it('says in one warning line why PostgreSQL could not be embedded, and goes on without it', async () => {
    const logger = captureLogger();

    const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: await envFile(DEFAULT_ENV), env: {}, logger, probe: probeSays('refused'), startPostgres: fakePostgres('fail').start });

    expect(deps.embeddedPostgres).toBe(false);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        obj: { event: 'database.embedded_failed', host: '127.0.0.1', port: 5999, code: 'DEV_DEPENDENCY_FAILED' },
        msg: 'No PostgreSQL at 127.0.0.1:5999, and embedded PostgreSQL failed to initialise: initdb: error: could not create directory; start PostgreSQL there or set DATABASE_URL (the service retries in the background)',
      },
    ]);
  });

  it('runs as a single instance when the default Redis address refuses, saying in one line that push to other instances is off', async () => {
    const logger = captureLogger();
    const probe = async (_host: string, port: number): Promise<TcpProbeResult> => (port === 6999 ? 'refused' : 'open');

    const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: await envFile(DEFAULT_ENV), env: {}, logger, probe, startPostgres: fakePostgres().start });

    expect(deps).toMatchObject({ singleInstance: true, embeddedPostgres: false });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'info', obj: { event: 'redis.single_instance', host: '127.0.0.1', port: 6999 } });
    expect(logger.lines[0]!.msg).toContain('refresh push to other instances is off');
  });

  it('does nothing without a .env', async () => {
    const logger = captureLogger();
    const pg = fakePostgres();

    const deps = await startDevDependencies({ bootstrapDatabaseUrl: BOOTSTRAP_DATABASE_URL, envFile: join(dir, 'none', '.env'), env: {}, logger, probe: probeSays('refused'), startPostgres: pg.start });

    expect(deps).toMatchObject({ singleInstance: false, embeddedPostgres: false });
    expect(pg.calls).toEqual([]);
  });
});
