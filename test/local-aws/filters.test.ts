import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { matchesFilters, words } from '../../src/local-aws/filters.js';
import type { FilterInput } from '../../src/local-aws/request-fields.js';
import { SecretStore, type SecretRecord } from '../../src/local-aws/store.js';

function secret(name: string, description?: string, tags: Array<[string, string]> = []): SecretRecord {
  const store = new SecretStore({ region: 'us-east-1', accountId: '000000000000', clock: { now: () => 0 } });
  return store.create({ name, tags, versionId: randomUUID(), ...(description === undefined ? {} : { description }) }).secret;
}

const matches = (record: SecretRecord, ...filters: FilterInput[]): boolean => matchesFilters(record, filters, 'us-east-1');

describe('words', () => {
  it('splits at case changes, letter/digit changes and punctuation, lower-cased', () => {
    expect(words('credsDatabase#892')).toEqual(['creds', 'database', '892']);
    expect(words('whatsapp-saas/mvp/admin_token')).toEqual(['whatsapp', 'saas', 'mvp', 'admin', 'token']);
  });
});

describe('matchesFilters', () => {
  it('matches names by case-sensitive prefix only', () => {
    const record = secret('DatabaseSecret');
    expect(matches(record, { key: 'name', values: ['Data'] })).toBe(true);
    expect(matches(record, { key: 'name', values: ['data'] })).toBe(false);
    expect(matches(record, { key: 'name', values: ['Secret'] })).toBe(false);
  });

  it('matches descriptions by prefix regardless of case', () => {
    expect(matches(secret('a', 'Admin token'), { key: 'description', values: ['admin T'] })).toBe(true);
  });

  it('ORs the values of one filter and ANDs filters', () => {
    const record = secret('app/db', undefined, [['env', 'prod']]);
    expect(matches(record, { key: 'name', values: ['nope', 'app/'] })).toBe(true);
    expect(matches(record, { key: 'name', values: ['app/'] }, { key: 'tag-value', values: ['dev'] })).toBe(false);
  });

  it('excludes what a negated value matches', () => {
    const record = secret('app/db');
    expect(matches(record, { key: 'name', values: ['!app/'] })).toBe(false);
    expect(matches(record, { key: 'name', values: ['!other'] })).toBe(true);
  });

  it('searches every attribute by word for the all key', () => {
    const record = secret('whatsapp-saas/mvp/adminToken', 'used by the webhook', [['Owner', 'Platform']]);
    expect(matches(record, { key: 'all', values: ['token'] })).toBe(true);
    expect(matches(record, { key: 'all', values: ['WEB'] })).toBe(true);
    expect(matches(record, { key: 'all', values: ['plat'] })).toBe(true);
    expect(matches(record, { key: 'all', values: ['redis'] })).toBe(false);
  });
});
