import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors.js';
import { errorCode } from '../engine/index.js';

/**
 * The 0600 file a new token is handed over in. It is reserved before the pending version exists
 * (so a bad path fails while nothing has changed) and holds, until it holds the token, the
 * secret id and the version id it is reserved for: a re-run after a crash finds the rotation to
 * resume there. The token replaces that text in one rename, so the file is never half written.
 */
export interface TokenFile {
  readonly path: string;
  readonly versionId: string;
  /** This run created the reservation (a resumed one was found in place). */
  readonly reservedNow: boolean;
  /** Writes the token, unless the file already holds exactly it; refuses a file holding anything else. */
  fill(token: string): Promise<void>;
  /** Removes a reservation this run made, only while it holds no token. */
  release(): Promise<void>;
}

export interface Reservation {
  readonly secretId: string;
  readonly versionId: string;
}

const MAX_READ_BYTES = 4096;
const HEADER = '# secrets rotate: reserved for the new token of ';
const RESERVATION = /^# secrets rotate: reserved for the new token of (\S+) version ([A-Za-z0-9-]{32,64})\.\n/;

function reservationText({ secretId, versionId }: Reservation): string {
  return `${HEADER}${secretId} version ${versionId}.\n# Still here? The rotation stopped before handing the token over: run the same command again to resume.\n`;
}

/** The default file for a kind's new token: named for its version, so a re-run finds it again. */
export function defaultTokenPath(cwd: string, kind: string, versionId: string): string {
  return join(cwd, `.${kind}-new-${versionId}.txt`);
}

/** The reservation a file holds, if it holds one (a missing file or a token holds none). */
export async function readReservation(path: string): Promise<Reservation | undefined> {
  const text = await readSmall(path);
  const m = text === undefined ? null : RESERVATION.exec(text);
  return m === null ? undefined : { secretId: m[1]!, versionId: m[2]! };
}

/** Default-named files in `dir` still reserved for a version of `secretId`, newest first. */
export async function findReservations(dir: string, kind: string, secretId: string): Promise<(Reservation & { readonly path: string })[]> {
  const name = new RegExp(`^\\.${kind}-new-[A-Za-z0-9-]{32,64}\\.txt$`);
  const found: (Reservation & { path: string; mtimeMs: number })[] = [];
  for (const entry of await readdir(dir)) {
    if (!name.test(entry)) continue;
    const path = join(dir, entry);
    const reservation = await readReservation(path);
    if (reservation?.secretId === secretId) found.push({ ...reservation, path, mtimeMs: (await stat(path)).mtimeMs });
  }
  return found.sort((a, b) => b.mtimeMs - a.mtimeMs).map(({ mtimeMs: _mtimeMs, ...reservation }) => reservation);
}

/** Creates the reservation (mode 0600, never overwriting anything). */
export async function reserveTokenFile(path: string, reservation: Reservation): Promise<TokenFile> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(reservationText(reservation));
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new CliError('FAILED', `Cannot create ${path} (${errorCode(err)}); nothing changed`, { cause: err });
  }
  return tokenFile(path, reservation, true);
}

/**
 * The file of a rotation being resumed: reserved now if absent; otherwise it must be reserved for
 * this version or already hold its token (checked when filled).
 */
export async function resumeTokenFile(path: string, reservation: Reservation): Promise<TokenFile> {
  if ((await readSmall(path)) === undefined) return reserveTokenFile(path, reservation);
  const found = await readReservation(path);
  if (found !== undefined && (found.secretId !== reservation.secretId || found.versionId !== reservation.versionId)) {
    throw new CliError('CONFLICT', `${path} is reserved for ${found.secretId} version ${found.versionId}, not version ${reservation.versionId}; choose another --save-token. Nothing changed`);
  }
  return tokenFile(path, reservation, false);
}

function tokenFile(path: string, reservation: Reservation, reservedNow: boolean): TokenFile {
  let filled = false;
  return {
    path,
    versionId: reservation.versionId,
    reservedNow,
    async fill(token) {
      const now = await readSmall(path);
      if (now !== undefined && now.trim() === token) {
        filled = true;
        return;
      }
      if (now !== undefined && (await readReservation(path)) === undefined) {
        throw new CliError('CONFLICT', `${path} holds something other than the token of version ${reservation.versionId}; not overwritten`);
      }
      const temp = `${path}.${reservation.versionId}.tmp`;
      await rm(temp, { force: true });
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(`${token}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      filled = true;
    },
    async release() {
      if (!reservedNow || filled) return;
      if ((await readReservation(path))?.versionId === reservation.versionId) await rm(path, { force: true });
    },
  };
}

/** A file's first bytes as text; undefined when there is no file. */
async function readSmall(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_READ_BYTES, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
