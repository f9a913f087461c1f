/**
 * The webhook's group commit alone, without HTTP or a load generator: WebhookIngest on the
 * service's pool (PostgreSQL as configured, fsync and synchronous_commit as the server has them),
 * `c` loops each submitting a fresh 90-byte event and waiting for its commit, for BENCH_SECONDS (3)
 * seconds, for 3, 6 and 8 writers (WEBHOOK_GROUPS_IN_FLIGHT) at 10 and 100 at once. Prints events
 * committed a second and events per transaction: what PostgreSQL allows before HTTP is added.
 * Usage: npm run bench:ingest   (BENCH_QUICK=1: 0.25 s per row; BENCH_POSTGRES_URL: the server)
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database, pgPoolConfig } from '../src/service/database.js';
import { WebhookIngest } from '../src/service/webhook-ingest.js';
import { BENCH_POSTGRES, benchSeconds } from './support/quick.js';

const SECONDS = benchSeconds(3, 0.25);
const SERVER = BENCH_POSTGRES;
const name = `bench_ingest_${process.pid}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const database = new Database({ url: `${SERVER}/${name}`, createPool: (url, role) => new pg.Pool(pgPoolConfig(url, role)) });
try {
  database.start();
  await database.whenReady();
  console.log(`node ${process.version}, ${SECONDS} s each, ${new Date().toISOString()}\n`);
  console.log('| writers | at once | events/s | events per transaction |');
  console.log('|---:|---:|---:|---:|');
  for (const groupsInFlight of [3, 6, 8]) {
    for (const concurrency of [10, 100]) {
      const ingest = new WebhookIngest(database, { groupsInFlight });
      let events = 0;
      const end = performance.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            const body = randomBytes(90);
            await ingest.submit({ id: createHash('sha256').update(body).digest('hex'), object: 'whatsapp_business_account', body, signedWith: 'current' });
            events++;
          }
        }),
      );
      console.log(`| ${groupsInFlight} | ${concurrency} | ${Math.round(events / SECONDS)} | ${(events / ingest.stats().groupsCommitted).toFixed(1)} |`);
    }
  }
} finally {
  await database.close();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}
