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

/** The JSON form with `fields` over a valid base; the password is the canary. */
const json = (fields: Record<string, unknown>) => JSON.stringify({ host: 'db.internal', username: 'app', password: CANARY, ...fields });
const reasonOf = (raw: string) => {
  const parsed = parsePostgresConnection(raw);
  return parsed.ok ? undefined : parsed.reason;
};

describe('postgres connection secrets: the URL form', () => {
  it('defaults the port to 5432 and the database to the user, and leaves an empty password out', () => {
    expect(parsePostgresConnection('postgresql://app@db.internal')).toEqual({
      ok: true,
      value: { form: 'url', host: 'db.internal', port: 5432, user: 'app', password: undefined, database: 'app', url: 'postgresql://app@db.internal' },
    });
  });

  it('decodes percent-encoded user, password and database, and reads a URL whose password holds a brace', () => {
    expect(parsePostgresConnection('postgres://ap%70:planted%40pw@db/sal%6Fns')).toMatchObject({ ok: true, value: { user: 'app', password: 'planted@pw', database: 'salons' } });
    expect(parsePostgresConnection('postgresql://app:p{w@db/x')).toMatchObject({ ok: true, value: { form: 'url', password: 'p{w' } });
  });

  it('takes a Unix socket folder from the host parameter when the URL names no host', () => {
    const raw = 'postgresql:///salons?host=/var/run/postgresql';

    expect(parsePostgresConnection(raw)).toMatchObject({ ok: true, value: { host: '/var/run/postgresql', database: 'salons', url: raw } });
  });

  it.each([
    ['postgresql:///salons', 'has no host'],
    [`http://app:${CANARY}@db/x`, 'wrong scheme (expected postgres: or postgresql:)'],
    [`postgresql://app:${CANARY}%E0%A4%A@db/x`, 'has a malformed percent-encoding'],
    [`${CANARY} not a url`, 'not a valid URL or JSON object (expected a postgres URL or RDS secret JSON)'],
  ])('refuses %s with exactly: %s', (raw, reason) => {
    expect(reasonOf(raw)).toBe(reason);
  });
});

describe('postgres connection secrets: the JSON form', () => {
  it('reads JSON after leading white space, and takes engine postgresql as well as postgres', () => {
    expect(parsePostgresConnection(`  \n${json({ engine: 'postgresql' })}`)).toMatchObject({ ok: true, value: { form: 'json', host: 'db.internal' } });
  });

  it('accepts JSON of exactly 16 KiB and refuses one byte more', () => {
    const sized = (bytes: number) => {
      const base = json({ pad: '' });
      return json({ pad: 'x'.repeat(bytes - Buffer.byteLength(base)) });
    };

    expect(parsePostgresConnection(sized(16 * 1024)).ok).toBe(true);
    expect(reasonOf(sized(16 * 1024 + 1))).toBe('JSON larger than 16384 bytes');
  });

  it('accepts the limits of each field: host of 255 characters, user and database names of 63, ports 1 and 65535', () => {
    for (const fields of [{ host: 'h'.repeat(255) }, { username: 'u'.repeat(63) }, { dbname: 'd'.repeat(63) }, { port: 1 }, { port: 65_535 }, { port: '80' }]) {
      expect(parsePostgresConnection(json(fields)).ok, JSON.stringify(fields).slice(0, 40)).toBe(true);
    }
  });

  it('brackets an IPv6 host in the URL it builds, and keeps a bracketed one as it is', () => {
    for (const host of ['::1', '[::1]']) {
      const parsed = parsePostgresConnection(json({ host }));

      expect(parsed).toMatchObject({ ok: true, value: { host } });
      expect(parsed.ok && new URL(parsed.value.url).hostname).toBe('[::1]');
    }
  });

  const HOST = 'field host must be a non-empty string';
  const USERNAME = 'field username must be a non-empty string of at most 63 characters';
  const PASSWORD = 'field password must be a non-empty string';
  const PORT = 'field port must be an integer from 1 to 65535';
  const DBNAME = 'field dbname must be a non-empty string of at most 63 characters';
  it.each([
    [{ engine: 'mysql' }, 'field engine is not postgres'],
    [{ host: 5 }, HOST],
    [{ host: '   ' }, HOST],
    [{ host: 'h'.repeat(256) }, HOST],
    [{ host: 'a b' }, 'field host is not a valid host name'],
    [{ username: 5 }, USERNAME],
    [{ username: '' }, USERNAME],
    [{ username: 'u'.repeat(64) }, USERNAME],
    [{ password: 5 }, PASSWORD],
    [{ port: 0 }, PORT],
    [{ port: 65_536 }, PORT],
    [{ port: 80.5 }, PORT],
    [{ port: true }, PORT],
    [{ port: ' 6543' }, PORT],
    [{ port: '6543 ' }, PORT],
    [{ port: '0x1F90' }, PORT],
    [{ dbname: '' }, DBNAME],
    [{ dbname: 'd'.repeat(64) }, DBNAME],
  ])('refuses %j with exactly its reason', (fields, reason) => {
    expect(reasonOf(json(fields))).toBe(reason);
  });

  it('names what it expects when a value is not one, for setup and check to show', () => {
    expect(postgresConnection().label).toBe('postgres URL or RDS secret JSON');
  });
});
