import { describe, expect, it } from 'vitest';
import { masterArnOf, otherUserOf, readPostgresSecret, scramVerifier, withCredentials } from '../../src/rotation/postgres-secret.js';

describe('withCredentials', () => {
  it('keeps the URL form with its host, port, database and parameters, encoding what needs it', () => {
    const next = withCredentials('postgresql://app:canary-old@db.internal:6432/app?sslmode=require', 'id', 'app_clone', 'canary%w/p@ss');

    expect(next).toBe('postgresql://app_clone:canary%25w%2Fp%40ss@db.internal:6432/app?sslmode=require');
    expect(readPostgresSecret(next, 'id')).toMatchObject({ user: 'app_clone', password: 'canary%w/p@ss', host: 'db.internal', port: 6432, database: 'app' });
  });

  it('keeps the JSON form with every other field in its order', () => {
    const raw = JSON.stringify({ engine: 'postgres', host: 'h', username: 'app', password: 'old', dbname: 'app', port: 5432, masterarn: 'arn:m' });

    expect(Object.keys(JSON.parse(withCredentials(raw, 'id', 'app', 'new')))).toEqual(['engine', 'host', 'username', 'password', 'dbname', 'port', 'masterarn']);
    expect(JSON.parse(withCredentials(raw, 'id', 'app', 'new'))).toMatchObject({ username: 'app', password: 'new', masterarn: 'arn:m' });
  });

  it('refuses a URL that names its host as a parameter, and a value of neither form, naming the secret and no value', () => {
    expect(() => withCredentials('postgresql:///app?host=/var/run/postgresql&password=canary-pw-1', 'db-secret', 'app', 'x')).toThrow(/db-secret names its host as a parameter/);
    expect(() => withCredentials('mysql://app:canary-pw-2@h/app', 'db-secret', 'app', 'x')).toThrow(/db-secret is not a PostgreSQL connection secret: wrong scheme/);
    try {
      withCredentials('mysql://app:canary-pw-2@h/app', 'db-secret', 'app', 'x');
    } catch (err) {
      expect((err as Error).message).not.toContain('canary-pw-2');
    }
  });
});

describe('otherUserOf', () => {
  it('pairs app with app_clone both ways', () => {
    expect(otherUserOf('app', 'id')).toBe('app_clone');
    expect(otherUserOf('app_clone', 'id')).toBe('app');
  });

  it('refuses a user too long to have a clone within 63 bytes', () => {
    expect(() => otherUserOf('u'.repeat(58), 'db-secret')).toThrow(/too long to have a _clone role/);
    expect(otherUserOf('u'.repeat(57), 'id')).toHaveLength(63);
  });
});

describe('masterArnOf', () => {
  it('reads masterarn from the JSON form only', () => {
    expect(masterArnOf(JSON.stringify({ username: 'a', masterarn: 'arn:aws:secretsmanager:us-east-1:1:secret:m' }))).toBe('arn:aws:secretsmanager:us-east-1:1:secret:m');
    expect(masterArnOf(JSON.stringify({ username: 'a' }))).toBeUndefined();
    expect(masterArnOf('postgresql://a:b@h/d')).toBeUndefined();
    expect(masterArnOf('{not json')).toBeUndefined();
  });
});

describe('scramVerifier', () => {
  it('has the format PostgreSQL stores, with a fresh salt each time', () => {
    const a = scramVerifier('p4ssw0rd-Base64url_chars');
    const b = scramVerifier('p4ssw0rd-Base64url_chars');

    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('p4ssw0rd');
  });

  it('is the same for the same salt (the server computes its check from these)', () => {
    const salt = Buffer.alloc(16, 7);
    expect(scramVerifier('same', salt)).toBe(scramVerifier('same', salt));
  });

  it('refuses a password SASLprep could change, naming no value', () => {
    expect(() => scramVerifier('pässwort')).toThrow('Only printable ASCII passwords are hashed here');
  });
});
