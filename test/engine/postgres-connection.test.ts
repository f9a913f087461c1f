import { describe, expect, it } from 'vitest';
import { parsePostgresConnection, postgresConnection } from '../../src/engine/postgres-connection.js';

const CANARY = 'canary-pg-pass-5d2e';

describe('postgres connection secrets', () => {
  it('reads the URL form and keeps the URL as it is', () => {
    const raw = `postgresql://app:${CANARY}@db.internal:6432/salons?sslmode=require`;

    const parsed = parsePostgresConnection(raw);

    expect(parsed).toEqual({
      ok: true,
      value: { form: 'url', host: 'db.internal', port: 6432, user: 'app', password: CANARY, database: 'salons', url: raw },
    });
  });

  it('reads the JSON that RDS rotation writes and builds an equivalent URL', () => {
    const raw = JSON.stringify({ engine: 'postgres', host: 'db.internal', port: 5432, username: 'app', password: 'p@ss/word:%', dbname: 'salons' });

    const parsed = parsePostgresConnection(raw);

    expect(parsed.ok).toBe(true);
    const value = parsed.ok ? parsed.value : undefined;
    expect(value).toMatchObject({ form: 'json', host: 'db.internal', port: 5432, user: 'app', password: 'p@ss/word:%', database: 'salons' });
    const url = new URL(value!.url);
    expect([url.protocol, url.hostname, url.port, url.username, decodeURIComponent(url.password), url.pathname]).toEqual([
      'postgresql:',
      'db.internal',
      '5432',
      'app',
      'p@ss/word:%',
      '/salons',
    ]);
  });

  it('fills in the defaults of the JSON form: port 5432, database postgres, extra fields ignored', () => {
    const raw = JSON.stringify({ host: 'h', username: 'u', password: 'p', masterarn: 'arn:aws:secretsmanager:us-east-1:1:secret:m', port: '6543' });

    const parsed = parsePostgresConnection(raw);

    expect(parsed).toMatchObject({ ok: true, value: { port: 6543, database: 'postgres' } });
  });

  it('gives get() one URL for either form', () => {
    const kind = postgresConnection();

    expect(kind.parse('postgres://db.internal/app')).toEqual({ ok: true, value: 'postgres://db.internal/app' });
    expect(kind.parse('{"host":"db","username":"u","password":"p","dbname":"d"}')).toEqual({ ok: true, value: 'postgresql://u:p@db:5432/d' });
  });

  it.each([
    [`http://${CANARY}@host/db`, 'wrong scheme'],
    [`${CANARY} not a url`, 'not a valid URL or JSON object'],
    [`{"host":"h","username":"u","password":"${CANARY}"`, 'not valid JSON'],
    [`["${CANARY}"]`, 'JSON is not an object'],
    [`{"engine":"mysql","host":"h","username":"u","password":"${CANARY}"}`, 'field engine is not postgres'],
    [`{"host":"","username":"u","password":"${CANARY}"}`, 'field host'],
    [`{"host":"h","password":"${CANARY}"}`, 'field username'],
    [`{"host":"h","username":"u","password":""}`, 'field password'],
    [`{"host":"h","username":"u","password":"${CANARY}","port":70000}`, 'field port'],
    [`{"host":"h","username":"u","password":"${CANARY}","dbname":7}`, 'field dbname'],
    [`{"host":"h","username":"u","password":"${CANARY}","pad":"${'x'.repeat(20_000)}"}`, 'larger than'],
  ])('refuses a bad value with a reason that never quotes it (%#)', (raw, reason) => {
    const parsed = postgresConnection().parse(raw);

    expect(parsed.ok).toBe(false);
    const text = JSON.stringify(parsed);
    expect(text).toContain(reason);
    expect(text).not.toContain(CANARY);
  });
});
