import { describe, expect, it } from 'vitest';
import { connectionTarget } from '../../src/service/connection-target.js';

describe('connectionTarget', () => {
  it('names host, port and database, never the user or password', () => {
    expect(connectionTarget('postgresql://app:canary-pw-1a2b@db.internal:6543/whatsapp_saas')).toBe('db.internal:6543/whatsapp_saas');
    expect(connectionTarget('redis://:canary-pw-3c4d@cache.internal:6380')).toBe('cache.internal:6380');
  });

  it('fills in the default ports', () => {
    expect(connectionTarget('postgresql://postgres@127.0.0.1/whatsapp_saas')).toBe('127.0.0.1:5432/whatsapp_saas');
    expect(connectionTarget('rediss://cache.internal')).toBe('cache.internal:6379');
  });

  it('says the URL is unparsable without quoting it', () => {
    expect(connectionTarget('not a url canary-5e6f')).toBe('unparsable URL');
  });
});
