import { describe, expect, it } from 'vitest';
import { awsIdIndex, defineCatalog, kebab } from '../../src/engine/catalog.js';
import { integer, text } from '../../src/engine/value-kinds.js';

const spec = {
  ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true },
  OPENAI_MAX_TOKENS: { kind: integer({ min: 1 }), required: false, default: 1000, description: 'max' },
  LEGACY_KEY: { kind: text(), required: false, description: 'legacy', awsName: 'old/legacy-key' },
} as const;

describe('defineCatalog', () => {
  it('derives each AWS id from the project, environment and kebab-case name, or the declared AWS name', () => {
    const catalog = defineCatalog(spec, { project: 'acme', environment: 'prod-2' });

    expect(catalog.prefix).toBe('acme/prod-2');
    expect(catalog.entries.map((e) => [e.name, e.awsId])).toEqual([
      ['ADMIN_TOKEN', 'acme/prod-2/admin-token'],
      ['OPENAI_MAX_TOKENS', 'acme/prod-2/openai-max-tokens'],
      ['LEGACY_KEY', 'acme/prod-2/old/legacy-key'],
    ]);
    expect(catalog.entry('ADMIN_TOKEN')?.spec).toBe(spec.ADMIN_TOKEN);
    expect(catalog.entry('NOPE')).toBeUndefined();
    expect(catalog.spec).toBe(spec);
  });

  it('uses whatsapp-saas/mvp by default', () => {
    expect(defineCatalog(spec).prefix).toBe('whatsapp-saas/mvp');
  });

  it.each([
    [{ project: 'Acme' }, 'Invalid project: use lowercase letters, digits and dashes'],
    [{ project: '-acme' }, 'Invalid project'],
    [{ environment: 'prod_1' }, 'Invalid environment: use lowercase letters, digits and dashes'],
    [{ environment: '' }, 'Invalid environment'],
  ])('refuses the prefix part %o', (options, message) => {
    expect(() => defineCatalog(spec, options)).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID_CONFIG', message: expect.stringContaining(message) }));
  });

  it('accepts prefix parts of digits and dashes after the first character', () => {
    expect(defineCatalog(spec, { project: '9a-b', environment: 'x' }).prefix).toBe('9a-b/x');
  });

  it('refuses a name that is not UPPER_SNAKE_CASE, naming it', () => {
    for (const name of ['admin_token', '_ADMIN', '1ADMIN', 'ADMIN-TOKEN', 'ADMIN TOKEN']) {
      expect(() => defineCatalog({ [name]: { kind: text(), required: false, description: 'x' } })).toThrow(
        `Invalid secret name ${JSON.stringify(name)}: use UPPER_SNAKE_CASE`,
      );
    }
    expect(() => defineCatalog({ A1_B2: { kind: text(), required: false, description: 'x' } })).not.toThrow();
  });

  it('refuses a secret that is both required and defaulted', () => {
    expect(() => defineCatalog({ A: { kind: text(), required: true, default: 'x', description: 'x' } })).toThrow(
      'Secret A is required and has a default: choose one',
    );
  });

  it('refuses two secrets with the same AWS id', () => {
    expect(() =>
      defineCatalog({
        A_B: { kind: text(), required: false, description: 'x' },
        C: { kind: text(), required: false, description: 'x', awsName: 'a-b' },
      }),
    ).toThrow('Secrets A_B and C share AWS id whatsapp-saas/mvp/a-b');
  });
});

describe('awsIdIndex and nameForAwsId', () => {
  const catalog = defineCatalog(spec);
  const arn = (id: string, suffix = 'AbC123') => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-${suffix}`;

  it('maps an AWS id or an ARN of this catalog to its name', () => {
    expect(catalog.nameForAwsId('whatsapp-saas/mvp/admin-token')).toBe('ADMIN_TOKEN');
    expect(catalog.nameForAwsId(arn('whatsapp-saas/mvp/admin-token'))).toBe('ADMIN_TOKEN');
    expect(catalog.nameForAwsId(arn('whatsapp-saas/mvp/old/legacy-key'))).toBe('LEGACY_KEY');
    expect(catalog.nameForAwsId('arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:whatsapp-saas/mvp/admin-token-zZ9zZ9')).toBe('ADMIN_TOKEN');
  });

  it('maps nothing else: look-alike names, other prefixes, malformed ARNs', () => {
    for (const id of [
      'whatsapp-saas/mvp/admin-token-x',
      arn('whatsapp-saas/mvp/admin-token-x'),
      arn('whatsapp-saas/prod/admin-token'),
      arn('whatsapp-saas/mvp/admin-token', 'AbC12'),
      arn('whatsapp-saas/mvp/admin-token', 'AbC1234'),
      `x${arn('whatsapp-saas/mvp/admin-token')}`,
      arn('whatsapp-saas/mvp/admin-token').replace('secretsmanager', 'ssm'),
      arn('whatsapp-saas/mvp/admin-token').replace(':secret:', ':parameter:'),
      'whatsapp-saas/mvp/ADMIN_TOKEN',
      '',
    ]) {
      expect(catalog.nameForAwsId(id)).toBeUndefined();
    }
  });

  it('indexes any list of entries the same way', () => {
    const index = awsIdIndex(catalog.entries.slice(0, 1));
    expect(index(arn('whatsapp-saas/mvp/admin-token'))).toBe('ADMIN_TOKEN');
    expect(index('whatsapp-saas/mvp/openai-max-tokens')).toBeUndefined();
  });
});

describe('kebab', () => {
  it('lower-cases and turns every underscore into a dash', () => {
    expect(kebab('META_APP_SECRET')).toBe('meta-app-secret');
  });
});

describe('defineCatalog error codes', () => {
  it('raises SECRETS_INVALID_CONFIG for every catalog mistake', () => {
    const mistakes = [
      () => defineCatalog({ bad: { kind: text(), required: false, description: 'x' } }),
      () => defineCatalog({ A: { kind: text(), required: true, default: 'x', description: 'x' } }),
      () => defineCatalog({ A_B: { kind: text(), required: false, description: 'x' }, C: { kind: text(), required: false, description: 'x', awsName: 'a-b' } }),
    ];
    for (const mistake of mistakes) expect(mistake).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID_CONFIG' }));
  });
});
