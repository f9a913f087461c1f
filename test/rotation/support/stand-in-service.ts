import { once } from 'node:events';
import { createServer } from 'node:http';
import { whatsappSaasSpec } from '../../../src/catalog/whatsapp-saas.js';
import { createAwsSource, createSecretsEngine, defineCatalog } from '../../../src/engine/index.js';
import type { LocalSecretsManager } from '../../../src/local-aws/local-secrets-manager.js';
import { localClient } from '../../support/local-aws.js';

/**
 * A stand-in with the service's contract for the routes rotation uses, over a real engine on
 * the local endpoint: the admin token must be one the engine accepts (else 401);
 * `GET /admin/secrets/health` reports each secret's version id; `POST /admin/refresh-secrets`
 * refreshes from the store.
 */
export async function startStandInService(lsm: LocalSecretsManager, project: string, names: readonly (keyof typeof whatsappSaasSpec)[] = ['ADMIN_TOKEN']) {
  const spec = Object.fromEntries(names.map((n) => [n, whatsappSaasSpec[n]]));
  const catalog = defineCatalog(spec, { project });
  const engine = createSecretsEngine({ catalog, source: createAwsSource({ client: localClient(lsm), region: 'us-east-1' }) });
  await engine.initialize();
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    if (!engine.accepted('ADMIN_TOKEN').includes(String(req.headers['x-admin-token']))) {
      res.statusCode = 401;
      res.end('{}');
      return;
    }
    if (req.method === 'POST' && req.url?.split('?')[0] === '/admin/refresh-secrets') {
      void engine.refresh().then(() => res.end('{}'));
      return;
    }
    const secrets = Object.fromEntries(Object.entries(engine.status().secrets).map(([name, s]) => [name, { versionId: s.versionId }]));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ secrets }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    engine,
    received,
    async close() {
      server.close();
      engine.close();
    },
  };
}
