import { describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { MAX_NOTICE_BYTES, parseRefreshNotice, REFRESH_CHANNEL, refreshChannel, refreshNoticeMessage } from '../../src/engine/refresh-notice.js';

const catalog = whatsappSaasCatalog();
const at = '2026-01-01T00:00:00.000Z';
const good = { v: 1, origin: 'secrets-cli', reason: 'rotated ADMIN_TOKEN', names: ['ADMIN_TOKEN'], versions: { ADMIN_TOKEN: '1f0c2d3e-aaaa-4bbb-8ccc-000000000001' }, at };
const parse = (value: unknown) => parseRefreshNotice(typeof value === 'string' ? value : JSON.stringify(value), catalog);

describe('refreshChannel', () => {
  it('is one channel per project, environment and source', () => {
    expect(refreshChannel(whatsappSaasCatalog(), 'aws')).toBe(`${REFRESH_CHANNEL}:whatsapp-saas/mvp:aws`);
    expect(refreshChannel(whatsappSaasCatalog(), 'env')).toBe(`${REFRESH_CHANNEL}:whatsapp-saas/mvp:env`);
    expect(refreshChannel(whatsappSaasCatalog({ project: 'other', environment: 'prod' }), 'aws')).toBe(`${REFRESH_CHANNEL}:other/prod:aws`);
  });

  it('keeps npm run dev (.env) and npm run dev:aws (AWS mode) of one project apart', () => {
    expect(refreshChannel(whatsappSaasCatalog(), 'env')).not.toBe(refreshChannel(whatsappSaasCatalog(), 'aws'));
  });
});

describe('parseRefreshNotice', () => {
  it('accepts the exact shape and returns it', () => {
    expect(parse(good)).toEqual({ ok: true, notice: good });
    const { versions: _, ...withoutVersions } = good;
    expect(parse(withoutVersions)).toStrictEqual({ ok: true, notice: withoutVersions });
  });

  it('accepts a notice that names no secrets: a full refresh', () => {
    const { versions: _, ...withoutVersions } = good;
    const full = { ...withoutVersions, names: [] };
    expect(parse(full)).toStrictEqual({ ok: true, notice: full });
  });

  it('accepts a notice of exactly the size limit and texts of exactly their limit', () => {
    const exact = { ...good, reason: 'r'.repeat(200) };
    const json = JSON.stringify(exact);
    const padded = json + ' '.repeat(MAX_NOTICE_BYTES - Buffer.byteLength(json));
    expect(Buffer.byteLength(padded)).toBe(MAX_NOTICE_BYTES);
    expect(parse(padded)).toEqual({ ok: true, notice: exact });
  });

  it.each([
    ['not JSON', 'rotate please', 'not-json'],
    ['JSON that is not an object', '[1,2]', 'bad-shape'],
    ['null', 'null', 'bad-shape'],
    ['another version', { ...good, v: 2 }, 'bad-shape'],
    ['an extra key (a value, say)', { ...good, value: 'x' }, 'bad-shape'],
    ['no names but versions', { ...good, names: [] }, 'bad-shape'],
    ['names as one string', { ...good, names: 'ADMIN_TOKEN', versions: undefined }, 'bad-shape'],
    ['a name that is not a string beside one that is', { ...good, names: ['ADMIN_TOKEN', 1], versions: undefined }, 'bad-shape'],
    ['versions as a list', { ...good, versions: [] }, 'bad-shape'],
    ['versions null', { ...good, versions: null }, 'bad-shape'],
    ['versions as a number', { ...good, versions: 5 }, 'bad-shape'],
    ['a version id that is a number', { ...good, versions: { ADMIN_TOKEN: 5 } }, 'bad-shape'],
    ['an origin that is a list', { ...good, origin: ['secrets-cli'] }, 'bad-shape'],
    ['names not strings', { ...good, names: [1] }, 'bad-shape'],
    ['a name twice', { ...good, names: ['ADMIN_TOKEN', 'ADMIN_TOKEN'] }, 'bad-shape'],
    ['a name outside the catalog', { ...good, names: ['ADMIN_TOKEN', 'SOMETHING_ELSE'], versions: undefined }, 'unknown-name'],
    ['a version for a secret it does not name', { ...good, versions: { META_APP_SECRET: 'v1' } }, 'bad-shape'],
    ['a version id with odd characters', { ...good, versions: { ADMIN_TOKEN: 'v 1' } }, 'bad-shape'],
    ['an empty origin', { ...good, origin: '' }, 'bad-shape'],
    ['a control character in the reason', { ...good, reason: 'a\nb' }, 'bad-shape'],
    ['a long reason', { ...good, reason: 'r'.repeat(201) }, 'bad-shape'],
    ['a time that is not one', { ...good, at: 'soon' }, 'bad-shape'],
    ['a message over the size limit', JSON.stringify({ ...good, reason: 'r' }) + ' '.repeat(MAX_NOTICE_BYTES), 'too-large'],
    ['multi-byte characters over the size limit', 'é'.repeat(MAX_NOTICE_BYTES / 2 + 1), 'too-large'],
  ])('refuses %s', (_what, input, problem) => {
    expect(parse(input)).toEqual({ ok: false, problem });
  });
});

describe('refreshNoticeMessage', () => {
  it('writes what the parser accepts', () => {
    const { v: _, ...rest } = good;
    expect(parseRefreshNotice(refreshNoticeMessage(catalog, rest), catalog)).toEqual({ ok: true, notice: good });
  });

  it('refuses to write a name outside the catalog', () => {
    expect(() => refreshNoticeMessage(catalog, { origin: 'o', reason: 'r', names: ['NOPE'], at })).toThrow('Refusing to publish a malformed refresh notice (unknown-name)');
  });
});
