import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkServiceServes } from '../../src/rotation/service-probe.js';

const ADMIN = 'canary-probe-admin-Y7u8';

async function serve(listener: RequestListener) {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

const probe = (url: string) => ({ url, fetch, adminToken: async () => ADMIN });

describe('checkServiceServes', () => {
  it('passes when the service, given the admin token, reports the current version of the secret', async () => {
    const seen: string[] = [];
    const s = await serve((req, res) => {
      seen.push(`${req.url} ${req.headers['x-admin-token'] === ADMIN}`);
      res.end(JSON.stringify({ secrets: { ADMIN_TOKEN: { versionId: 'v2' } } }));
    });
    try {
      await checkServiceServes(probe(s.url), 'ADMIN_TOKEN', 'v2');
      expect(seen).toEqual(['/admin/secrets/health true']);
    } finally {
      s.close();
    }
  });

  it('fails naming the versions when the service serves another one, and the status when it refuses', async () => {
    const s = await serve((req, res) => {
      if (req.headers['x-admin-token'] !== ADMIN) res.statusCode = 401;
      res.end(JSON.stringify({ secrets: { ADMIN_TOKEN: { versionId: 'v1' } } }));
    });
    try {
      await expect(checkServiceServes(probe(s.url), 'ADMIN_TOKEN', 'v2')).rejects.toMatchObject({
        code: 'ROTATION_TEST_FAILED',
        message: `The service at ${s.url} serves version v1 of ADMIN_TOKEN, not the current v2: refresh it (POST /admin/refresh-secrets) or point it at this secret store`,
      });
      await expect(checkServiceServes({ ...probe(s.url), adminToken: async () => 'wrong' }, 'ADMIN_TOKEN', 'v1')).rejects.toThrow(/answered HTTP 401: it refuses the current admin token/);
    } finally {
      s.close();
    }
  });

  it('fails without echoing the body when the answer is not JSON, too large, or never comes', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/admin/secrets/health' && req.headers['x-big'] === undefined) res.end(`not json ${ADMIN}`);
    });
    try {
      const failure = (await checkServiceServes(probe(s.url), 'ADMIN_TOKEN', 'v1').catch((e: unknown) => e)) as Error;
      expect(failure).toMatchObject({ code: 'ROTATION_TEST_FAILED' });
      expect(failure.message).toContain('(SyntaxError)');
      expect(failure.message).not.toContain(ADMIN);
    } finally {
      s.close();
    }
    const big = await serve((_req, res) => res.end('x'.repeat(2 * 1024 * 1024)));
    try {
      await expect(checkServiceServes(probe(big.url), 'ADMIN_TOKEN', 'v1')).rejects.toThrow(/larger than 1048576 bytes/);
    } finally {
      big.close();
    }
    await expect(checkServiceServes(probe('http://127.0.0.1:9'), 'ADMIN_TOKEN', 'v1')).rejects.toThrow(/Cannot read http:\/\/127\.0\.0\.1:9\/admin\/secrets\/health \(TypeError\)/);
  });

  it('says the service serves no version when its health report lacks the secret, its version id is not a string, or it reports nothing', async () => {
    const bodies = [JSON.stringify({ secrets: { ADMIN_TOKEN: { versionId: 7 } } }), '{}', 'null'];
    const s = await serve((req, res) => {
      res.end(bodies[Number(req.headers['x-body'])]);
    });
    try {
      for (const [i, name] of [
        [0, 'ADMIN_TOKEN'],
        [0, 'META_VERIFY_TOKEN'],
        [1, 'ADMIN_TOKEN'],
        [2, 'ADMIN_TOKEN'],
      ] as const) {
        const withBody: typeof fetch = (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-body': String(i) } });
        await expect(checkServiceServes({ ...probe(s.url), fetch: withBody }, name, 'v1')).rejects.toMatchObject({
          code: 'ROTATION_TEST_FAILED',
          message: `The service at ${s.url} serves no version of ${name}, not the current v1: refresh it (POST /admin/refresh-secrets) or point it at this secret store`,
        });
      }
    } finally {
      s.close();
    }
  });

  it('takes a success without a body for an unreadable answer', async () => {
    const s = await serve((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    try {
      await expect(checkServiceServes(probe(s.url), 'ADMIN_TOKEN', 'v1')).rejects.toMatchObject({ code: 'ROTATION_TEST_FAILED', message: `Cannot read ${s.url}/admin/secrets/health (SyntaxError)` });
    } finally {
      s.close();
    }
  });

  it('names any status but 200 without guessing why, another success included', async () => {
    for (const status of [500, 202]) {
      const s = await serve((_req, res) => {
        res.statusCode = status;
        res.end('{}');
      });
      try {
        await expect(checkServiceServes(probe(s.url), 'ADMIN_TOKEN', 'v1')).rejects.toMatchObject({
          code: 'ROTATION_TEST_FAILED',
          message: `${s.url}/admin/secrets/health answered HTTP ${status}`,
        });
      } finally {
        s.close();
      }
    }
  });

  it('reads a body of exactly the limit, sent in pieces, and refuses one byte more naming where it came from', async () => {
    const LIMIT = 1024 * 1024;
    const body = (size: number) => {
      const json = JSON.stringify({ secrets: { ADMIN_TOKEN: { versionId: 'v1' } }, pad: '' });
      return JSON.stringify({ secrets: { ADMIN_TOKEN: { versionId: 'v1' } }, pad: 'x'.repeat(size - json.length) });
    };
    const s = await serve((_req, res) => {
      const text = body(LIMIT);
      res.write(text.slice(0, 1000));
      res.end(text.slice(1000));
    });
    const over = await serve((_req, res) => res.end(body(LIMIT + 1)));
    try {
      await expect(checkServiceServes(probe(s.url), 'ADMIN_TOKEN', 'v1')).resolves.toBeUndefined();
      await expect(checkServiceServes(probe(over.url), 'ADMIN_TOKEN', 'v1')).rejects.toMatchObject({
        code: 'ROTATION_TEST_FAILED',
        message: `The answer of ${over.url}/admin/secrets/health is larger than 1048576 bytes`,
      });
    } finally {
      s.close();
      over.close();
    }
  });
});
