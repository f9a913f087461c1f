import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/service/webhook-signature.js';
import { listenApp } from './support/listening-app.js';
import type { LogCapture } from './support/log-capture.js';
import { openConnection, rawRequest, within } from './support/raw-http.js';
import { throwawayDatabase, type ThrowawayDatabase } from './support/postgres.js';
import { SHARED_REDIS_URL } from './support/redis-server.js';
import { startHarness, testSecrets, type Harness } from './support/service-harness.js';

/**
 * Raw requests against a real listening server: what Node's parser refuses before Fastify routes,
 * and slow clients. For slow clients: the deadlines are short here (settings) so the
 * test is quick; every bound asserted is several times the deadline, never a race with it.
 */
let db: ThrowawayDatabase;
let h: Harness;
let app: FastifyInstance;
let logs: LogCapture;
let port: number;

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;

beforeAll(async () => {
  db = await throwawayDatabase('svc_slow');
  h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
  ({ app, port, logs } = await listenApp(h, { options: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } }));
});

afterAll(async () => {
  await app.close();
  await h.close();
  await db.drop();
});

/** Writes one byte every `everyMs` until the socket closes. */
function dribble(socket: Socket, everyMs: number): () => void {
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write('x');
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return () => clearInterval(timer);
}

async function signedWebhook(n: number): Promise<number> {
  const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: `slow-${n}-${Date.now()}` }] });
  const res = await fetch(`http://127.0.0.1:${port}/webhook`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, h.env.META_APP_SECRET!) },
  });
  await res.arrayBuffer();
  return res.status;
}

describe('slow clients', () => {
  it('answers a body sent a byte at a time 408 and closes its socket, while signed webhooks keep getting 200', async () => {
    const slow = await openConnection(port);
    const started = Date.now();
    slow.socket.write('POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 102400\r\n\r\n{');
    dribble(slow.socket, 100);

    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push(await signedWebhook(i));
    const received = await within(slow.closed, 10 * REQUEST_TIMEOUT_MS, 'slow body');
    const elapsedMs = Date.now() - started;
    for (let i = 5; i < 10; i++) codes.push(await signedWebhook(i));

    expect(codes).toEqual(Array(10).fill(200));
    expect(elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    const body = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: 'Request not received in time' }, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('answers headers sent a byte at a time 408 and closes the socket', async () => {
    const slow = await openConnection(port);
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    dribble(slow.socket, 100);

    const received = await within(slow.closed, 10 * HEADERS_TIMEOUT_MS, 'slow headers');

    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing at all', async () => {
    const idle = await openConnection(port);

    await within(idle.closed, 10 * HEADERS_TIMEOUT_MS, 'idle connection');
  });

  it('keeps an idle keep-alive connection open past the headers deadline for the next request', async () => {
    const conn = await openConnection(port);
    const responses: string[] = [];
    const next = () => new Promise<string>((resolve) => conn.socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));

    let answer = next();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    responses.push(await answer);
    await new Promise((r) => setTimeout(r, 3 * HEADERS_TIMEOUT_MS));
    answer = next();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    responses.push(await within(answer, 10 * HEADERS_TIMEOUT_MS, 'second request'));

    expect(responses.map((r) => r.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
  });

  it('logs the timeout by code, without the input', async () => {
    const slow = await openConnection(port);
    slow.socket.write('POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-Planted: slow-planted-header\r\nContent-Length: 100\r\n\r\n');
    dribble(slow.socket, 100);
    await within(slow.closed, 10 * REQUEST_TIMEOUT_MS, 'slow body');

    expect(logs.lines().some((l) => l.event === 'http.client_error' && l.code === 'ERR_HTTP_REQUEST_TIMEOUT' && l.statusCode === 408)).toBe(true);
    expect(logs.text()).not.toContain('slow-planted-header');
  });
});

describe('errors raised before routing', () => {
  it.each([
    ['an undecodable URL', 'GET /%zz-planted-input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST', 'Bad request'],
    ['an undecodable admin URL', 'GET /admin/%zz-planted-input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST', 'Bad request'],
    ['headers over the size limit', `GET / HTTP/1.1\r\nHost: x\r\nX-Planted-Input: ${'p'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE', 'Request headers too large'],
    ['a malformed request line', 'GARBAGE planted-input\r\n\r\n', 400, 'BAD_REQUEST', 'Bad request'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nplanted-input\r\n\r\n', 400, 'BAD_REQUEST', 'Bad request'],
    ['a control character in a header', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: planted\u0001input\r\n\r\n', 400, 'BAD_REQUEST', 'Bad request'],
    ['a conflicting body length', 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'BAD_REQUEST', 'Bad request'],
  ])('answers %s with the uniform error body, never echoing the input', async (_label, request, status, code, message) => {
    const res = await rawRequest(port, request);

    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toEqual({ error: { code, message }, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.raw).not.toContain('planted');
    expect(logs.text()).not.toContain('planted');
  });
});
