import { connect, type Socket } from 'node:net';

/** A response read off the wire, whatever the server sent. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Everything received, status line included. */
  readonly raw: string;
}

export interface RawConnection {
  readonly socket: Socket;
  /** Resolves with everything the server sent, once it closed the connection. */
  readonly closed: Promise<string>;
}

/** A TCP connection to a listening server; nothing is sent yet. */
export function openConnection(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Rejects if `promise` has not settled after `ms`: a bound on a hang, never a timing target. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} still open after ${ms} ms`)), ms))]);
}

/**
 * One request as exact bytes, `Host` and `Connection: close` added unless given; a body gets a
 * `Content-Length` unless the headers set the length or the transfer encoding themselves.
 */
export function requestBytes(method: string, target: string, headers: readonly (readonly [string, string | Buffer])[] = [], body?: string | Buffer): Buffer {
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  const all: (readonly [string, string | Buffer])[] = [
    ...(names.has('host') ? [] : [['Host', 'localhost'] as const]),
    ...headers,
    ...(names.has('connection') ? [] : [['Connection', 'close'] as const]),
    ...(body !== undefined && !names.has('content-length') && !names.has('transfer-encoding') ? [['Content-Length', String(Buffer.byteLength(body))] as const] : []),
  ];
  const lines: Buffer[] = [Buffer.from(`${method} ${target} HTTP/1.1\r\n`, 'latin1')];
  for (const [name, value] of all) lines.push(Buffer.concat([Buffer.from(`${name}: `, 'latin1'), Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'), Buffer.from('\r\n')]));
  lines.push(Buffer.from('\r\n'));
  if (body !== undefined) lines.push(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
  return Buffer.concat(lines);
}

/** Sends raw bytes on a fresh connection and parses what comes back before the server closes it. */
export async function rawRequest(port: number, bytes: Buffer | string, timeoutMs = 15_000): Promise<RawResponse> {
  const conn = await openConnection(port);
  conn.socket.write(bytes);
  const raw = await within(conn.closed, timeoutMs, 'raw request');
  return parseResponse(raw);
}

export function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (!raw.startsWith('HTTP/1.1 ') || split < 0) return { status: 0, headers: {}, body: '', raw };
  const [statusLine = '', ...headerLines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(statusLine.slice(9, 12)), headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
