import { describe, expect, it } from 'vitest';
import type { CliDeps } from '../../src/cli/deps.js';
import { notifyRefresh } from '../../src/cli/notify-refresh.js';

/** A fetch whose answers the test releases one by one, in the order it chooses. */
function controlledFetch() {
  const pending = new Map<string, (status: number) => void>();
  const urls: string[] = [];
  const fetch = ((input: URL) =>
    new Promise<Response>((resolve, reject) => {
      urls.push(input.href);
      pending.set(input.origin, (status) => (status === 0 ? reject(new Error('ECONNREFUSED')) : resolve(new Response('{}', { status }))));
    })) as unknown as typeof globalThis.fetch;
  const answer = async (origin: string, status: number) => {
    while (!pending.has(origin)) await new Promise((r) => setTimeout(r, 1));
    pending.get(origin)!(status);
    await new Promise((r) => setTimeout(r, 1));
  };
  return { fetch, answer, urls };
}

describe('notifyRefresh', () => {
  it('prints a line as each instance answers, in the order they answer, on stderr', async () => {
    const err: string[] = [];
    const f = controlledFetch();
    const deps = { stderr: (t: string) => err.push(t), fetch: f.fetch } as unknown as CliDeps;

    const done = notifyRefresh(['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'], 'token', ['ADMIN_TOKEN'], deps);
    await f.answer('http://127.0.0.1:2', 200);
    const afterFirst = [...err];
    await f.answer('http://127.0.0.1:3', 401);
    await f.answer('http://127.0.0.1:1', 0);
    const results = await done;

    expect(afterFirst).toEqual(['refreshed  http://127.0.0.1:2  (HTTP 200)\n']);
    expect(err).toEqual(['refreshed  http://127.0.0.1:2  (HTTP 200)\n', 'failed     http://127.0.0.1:3  (HTTP 401)\n', 'failed     http://127.0.0.1:1  (unreachable)\n']);
    expect(results.map((r) => r.status)).toEqual([0, 200, 401]);
  });

  it('names the rotated secrets in the request, so instances re-read only those', async () => {
    const f = controlledFetch();
    const deps = { stderr: () => {}, fetch: f.fetch } as unknown as CliDeps;

    const done = notifyRefresh(['http://127.0.0.1:1', 'http://127.0.0.1:2/'], 'token', ['ADMIN_TOKEN', 'META_VERIFY_TOKEN'], deps);
    await f.answer('http://127.0.0.1:1', 200);
    await f.answer('http://127.0.0.1:2', 200);
    await done;

    expect(f.urls).toEqual([
      'http://127.0.0.1:1/admin/refresh-secrets?names=ADMIN_TOKEN%2CMETA_VERIFY_TOKEN',
      'http://127.0.0.1:2/admin/refresh-secrets?names=ADMIN_TOKEN%2CMETA_VERIFY_TOKEN',
    ]);
  });

  it('on a terminal, spins with the count still awaited and stops when all answered', async () => {
    const events: string[] = [];
    const f = controlledFetch();
    const deps = {
      stderr: (t: string) => events.push(`line ${t.trim()}`),
      fetch: f.fetch,
      spinner: (text: string) => (events.push(`spin ${text}`), { text: (t: string) => events.push(`spin ${t}`), stop: () => events.push('stop') }),
    } as unknown as CliDeps;

    const done = notifyRefresh(['http://127.0.0.1:1', 'http://127.0.0.1:2'], undefined, [], deps);
    await f.answer('http://127.0.0.1:1', 200);
    await f.answer('http://127.0.0.1:2', 200);
    await done;

    expect(events).toEqual([
      'spin Waiting for 2 instances to refresh',
      'spin Waiting for 1 instance to refresh',
      'stop',
      'line refreshed  http://127.0.0.1:1  (HTTP 200)',
      'spin Waiting for 1 instance to refresh',
      'stop',
      'line refreshed  http://127.0.0.1:2  (HTTP 200)',
    ]);
  });
});
