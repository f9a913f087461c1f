import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A TCP port nothing listens on right now, for a server a test starts later (a child service,
 * redis-server, PostgreSQL) or for an address that must refuse.
 *
 * The port is released before its user binds it, so anything that binds in between takes it. A
 * port the OS picked (listen on port 0) is one it hands out again to the next listen on port 0 or
 * outgoing connection anywhere on the machine (this suite's other worker, another run of the suite,
 * every local endpoint a test starts on port 0). So the port comes from below the ephemeral range,
 * which the OS never hands out by itself; it is reserved (a file, for the other processes using
 * this helper) and never given twice by one process, then checked free by listening on it.
 */
export async function freePort(): Promise<number> {
  const [low, high] = chosenRange();
  if (high > low) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = randomInt(low, high);
      if (!reserve(port)) continue;
      const free = await listensOn(port);
      if (free !== undefined) return free;
    }
  }
  // No room below the ephemeral range (or every try taken): the OS's pick, as before.
  return listensOn(0).then((port) => port ?? Promise.reject(new Error('no free port')));
}

/** Below the ephemeral range, above the ports of the usual local services (PostgreSQL, Redis, 8080...). */
const LOWEST = 10_000;

function chosenRange(): [number, number] {
  let ephemeralLow = 32_768;
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (first !== undefined && /^\d+$/.test(first)) ephemeralLow = Number(first);
  } catch {
    // Not Linux: Linux's default range start (the BSDs and macOS start theirs higher).
  }
  return [LOWEST, ephemeralLow];
}

const RESERVATIONS = join(tmpdir(), 'whatsapp-saas-secrets-test-ports');
/** A reservation older than this is stale: its test has long bound the port (or is gone). */
const HELD_MS = 15 * 60_000;
const handedOut = new Set<number>();

let swept = false;

/** Once per process: reservations past HELD_MS are deleted, so the folder holds only live ones. */
function sweepStale(): void {
  swept = true;
  try {
    for (const name of readdirSync(RESERVATIONS)) {
      const path = join(RESERVATIONS, name);
      if (Date.now() - statSync(path).mtimeMs >= HELD_MS) rmSync(path, { force: true });
    }
  } catch {
    // Missing folder, or a file another process swept first: nothing to do.
  }
}

function reserve(port: number): boolean {
  if (!swept) sweepStale();
  if (handedOut.has(port)) return false;
  const path = join(RESERVATIONS, String(port));
  try {
    mkdirSync(RESERVATIONS, { recursive: true });
    closeSync(openSync(path, 'wx'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    try {
      if (Date.now() - statSync(path).mtimeMs < HELD_MS) return false;
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      return false;
    }
  }
  handedOut.add(port);
  return true;
}

/** Listens on 127.0.0.1:`port` and closes again: the port listened on, or undefined when it is taken. */
function listensOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = srv.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      srv.close(() => resolve(bound));
    });
  });
}
