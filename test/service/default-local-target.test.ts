import { describe, expect, it } from 'vitest';
import { defaultLocalTarget } from '../../src/service/default-local-target.js';

const BOOTSTRAP = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/whatsapp_saas', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('defaultLocalTarget', () => {
  it('recognises the URLs the .env bootstrap writes, on any loopback port', () => {
    expect(defaultLocalTarget('DATABASE_URL', BOOTSTRAP, {})).toEqual({ host: '127.0.0.1', port: 5432 });
    expect(defaultLocalTarget('REDIS_URL', BOOTSTRAP, {})).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(defaultLocalTarget('DATABASE_URL', { DATABASE_URL: 'postgres://postgres@localhost:55432/other' }, {})).toEqual({ host: 'localhost', port: 55432 });
    expect(defaultLocalTarget('DATABASE_URL', { DATABASE_URL: 'postgresql://postgres@[::1]/whatsapp_saas' }, {})).toEqual({ host: '::1', port: 5432 });
    expect(defaultLocalTarget('REDIS_URL', { REDIS_URL: 'redis://localhost:6390/2' }, {})).toEqual({ host: 'localhost', port: 6390 });
  });

  it('treats a value in the process environment as explicit, even the default one', () => {
    expect(defaultLocalTarget('DATABASE_URL', BOOTSTRAP, { DATABASE_URL: BOOTSTRAP.DATABASE_URL })).toBeUndefined();
    expect(defaultLocalTarget('REDIS_URL', BOOTSTRAP, { REDIS_URL: BOOTSTRAP.REDIS_URL })).toBeUndefined();
  });

  it('treats a password, another user or host, options or another scheme as explicit', () => {
    for (const url of [
      'postgresql://postgres:pw@127.0.0.1:5432/whatsapp_saas',
      'postgresql://app@127.0.0.1:5432/whatsapp_saas',
      'postgresql://postgres@db.internal:5432/whatsapp_saas',
      'postgresql://postgres@10.0.0.5:5432/whatsapp_saas',
      'postgresql://postgres@127.0.0.1:5432/whatsapp_saas?sslmode=require',
      'postgresql://postgres@127.0.0.1:5432/',
      'mysql://postgres@127.0.0.1:5432/whatsapp_saas',
      '{"engine":"postgres","host":"127.0.0.1","port":5432,"username":"postgres","password":"x","dbname":"whatsapp_saas"}',
    ]) {
      expect(defaultLocalTarget('DATABASE_URL', { DATABASE_URL: url }, {}), url).toBeUndefined();
    }
    for (const url of ['redis://:pw@127.0.0.1:6379', 'redis://user:pw@127.0.0.1:6379', 'rediss://127.0.0.1:6379', 'redis://cache.internal:6379', 'redis://127.0.0.1:6379/x']) {
      expect(defaultLocalTarget('REDIS_URL', { REDIS_URL: url }, {}), url).toBeUndefined();
    }
  });

  it('finds nothing when the .env does not set it or sets something that is not a URL', () => {
    expect(defaultLocalTarget('DATABASE_URL', {}, {})).toBeUndefined();
    expect(defaultLocalTarget('DATABASE_URL', { DATABASE_URL: '' }, {})).toBeUndefined();
    expect(defaultLocalTarget('REDIS_URL', { REDIS_URL: 'not a url' }, {})).toBeUndefined();
  });
});
