import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database, pgPoolConfig } from '../src/service/database.js';
import { WebhookIngest } from '../src/service/webhook-ingest.js';
const SERVER = 'postgresql://postgres@127.0.0.1:5432';
const name = `exp_ingest_${process.pid}`;
const admin = async (sql: string) => { const c = new pg.Client(`${SERVER}/postgres`); await c.connect(); await c.query(sql); await c.end(); };
const db = new Database({ url: `${SERVER}/${name}`, createPool: (u, r) => new pg.Pool(pgPoolConfig(u, r)) });
db.start(); await db.whenReady();
const conc = Number(process.env.C ?? 10);
for (const inflight of (process.env.F ?? "4,8").split(",").map(Number)) {
  const ingest = new WebhookIngest(db, { groupsInFlight: inflight });
  let n = 0; const lat: number[] = [];
  const end = Date.now() + 2000;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (Date.now() < end) {
      const body = Buffer.from(`{"object":"x","r":"${randomBytes(8).toString('hex')}"}`);
      const t = performance.now();
      await ingest.submit({ id: createHash('sha256').update(body).digest('hex'), object: 'x', body, signedWith: 'current' });
      lat.push(performance.now() - t); n++;
    }
  }));
  lat.sort((a, b) => a - b);
  const s = ingest.stats();
  console.log({ inflight, conc, perSec: n / 2, groups: s.groupsCommitted, avgGroup: (n / s.groupsCommitted).toFixed(1), p50: lat[lat.length >> 1]!.toFixed(2), p99: lat[Math.floor(lat.length * 0.99)]!.toFixed(2) });
}
// sequential single commits
{ let n = 0; const end = Date.now() + 1000; while (Date.now() < end) { await db.query('INSERT INTO webhook_events (id, object, body, signed_with) VALUES ($1, null, $2, \'current\')', [createHash('sha256').update(randomBytes(8)).digest('hex'), Buffer.from('{}')]); n++; } console.log('sequential commits/s', n); }
await db.close();
await admin(`DROP DATABASE ${name} WITH (FORCE)`);
