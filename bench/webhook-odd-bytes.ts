/**
 * Webhook deliveries with U+0000 in `object` (every 10th) mixed into a concurrent burst, over
 * HTTP and real PostgreSQL (a throwaway database on the shared server): how many are answered 200
 * and stored, and how the groups formed. Bounded: TOTAL deliveries or 120 s, whichever first.
 *
 *   npx tsx bench/webhook-odd-bytes.ts [TOTAL=2000] [CONCURRENCY=50]
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { signWebhookBody } from '../src/service/webhook-signature.js';
import { listenApp } from '../test/service/support/listening-app.js';
import { throwawayDatabase } from '../test/service/support/postgres.js';
import { SHARED_REDIS_URL } from '../test/service/support/redis-server.js';
import { startHarness, testSecrets } from '../test/service/support/service-harness.js';

const TOTAL = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 50);
const db = await throwawayDatabase('bench_odd_bytes');
const h = await startHarness({ env: testSecrets(db.url, SHARED_REDIS_URL) });
const served = await listenApp(h);
const reader = new pg.Pool({ connectionString: db.url, max: 2 });
const statuses = new Map<number, number>();
const ok: string[] = [];
let next = 0;
const deadline = Date.now() + 120_000;
async function sender() {
  while (next < TOTAL && Date.now() < deadline) {
    const i = next++;
    const nul = i % 10 === 0;
    const body = `{"object":"whatsapp_business_account${nul ? '\\u0000' : ''}","entry":[{"id":"${i}-${randomBytes(6).toString('hex')}"}]}`;
    const res = await fetch(`http://127.0.0.1:${served.port}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, h.env.META_APP_SECRET!) } });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status === 200) ok.push(createHash('sha256').update(body).digest('hex'));
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, sender));
const ms = performance.now() - t0;
const { rows } = await reader.query<{ n: string; nul: string }>("SELECT count(*) AS n, count(*) FILTER (WHERE object LIKE '%\\\\u0000') AS nul FROM webhook_events WHERE id = ANY($1)", [ok]);
console.log(JSON.stringify({ sent: next, concurrency: CONCURRENCY, statuses: Object.fromEntries(statuses), rowsOf200: Number(rows[0]!.n), nulRows: Number(rows[0]!.nul), seconds: +(ms / 1000).toFixed(1) }));
const lines = served.logs.lines().filter((l) => l.event === 'webhook.group_committed');
const multi = lines.filter((l) => (l.events as number) > 1).length;
console.log(JSON.stringify({ groupsCommitted: lines.length, groupsWithMoreThanOne: multi, maxGroup: Math.max(...lines.map((l) => l.events as number))}));
await reader.end();
await served.app.close();
await h.close();
await db.drop();
