import { describe, expect, it } from 'vitest';
import { aclPasswordHash, passwordHashesOf, readRedisSecret, withRedisCredentials } from '../../src/rotation/redis-secret.js';

describe('readRedisSecret', () => {
  it('reads an ACL user and password, and the default user when the URL names none', () => {
    expect(readRedisSecret('rediss://app:p%40ss@cache.internal:6380/2', 'id')).toEqual({ user: 'app', password: 'p@ss', host: 'cache.internal', port: '6380' });
    expect(readRedisSecret('redis://:pw@127.0.0.1', 'id')).toEqual({ user: 'default', password: 'pw', host: '127.0.0.1', port: '6379' });
  });

  it('refuses a URL without a password or of another scheme, naming the secret and no value', () => {
    expect(() => readRedisSecret('redis://app@h:6379', 'redis-secret')).toThrow(/redis-secret has no password to rotate/);
    expect(() => readRedisSecret('http://app:canary-r-1@h', 'redis-secret')).toThrow('redis-secret must use redis: or rediss:');
  });
});

describe('withRedisCredentials', () => {
  it('replaces the password (and the user, for an admin login) and keeps the rest', () => {
    expect(withRedisCredentials('redis://app:old@h:6379/3', 'n/w')).toBe('redis://app:n%2Fw@h:6379/3');
    expect(withRedisCredentials('redis://app:old@h:6379/3', 'adm', 'default')).toBe('redis://default:adm@h:6379/3');
  });
});

describe('passwordHashesOf', () => {
  it("finds the passwords of an ACL GETUSER reply, and tells a missing user", () => {
    expect(passwordHashesOf(['flags', ['on'], 'passwords', [aclPasswordHash('a')], 'commands', '+@all'])).toEqual([aclPasswordHash('a')]);
    expect(passwordHashesOf(['flags', ['on', 'nopass'], 'passwords', []])).toEqual([]);
    expect(passwordHashesOf(null)).toBeUndefined();
  });

  it('hashes as Redis does: SHA-256, hex', () => {
    expect(aclPasswordHash('foobar')).toBe('c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2');
  });
});
