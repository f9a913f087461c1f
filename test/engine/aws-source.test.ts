import { describe, expect, it } from 'vitest';
import { createAwsSource } from '../../src/engine/aws-source.js';
import { defineCatalog } from '../../src/engine/catalog.js';
import { SourceError } from '../../src/engine/errors.js';
import { text } from '../../src/engine/value-kinds.js';
import { captureLogger } from '../support/capture-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { awsError, FakeSecretsManagerClient } from '../support/fake-secrets-manager-client.js';

const HOUR = 3_600_000;
const catalog = defineCatalog({
  ADMIN_TOKEN: { kind: text(), required: true, description: 'admin', acceptsPrevious: true },
  ADMIN_TOKEN_X: { kind: text(), required: false, description: 'a look-alike name', awsName: 'admin-token-x' },
  OPENAI_API_KEY: { kind: text(), required: true, description: 'openai' },
  WHATSAPP_TOKEN: { kind: text(), required: false, description: 'wa' },
  META_APP_SECRET: { kind: text(), required: true, description: 'meta' },
  REDIS_URL: { kind: text(), required: true, description: 'redis' },
});
const arn = (id: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbC123`;
const entryValue = (id: string, stages = ['AWSCURRENT']) => ({
  Name: id,
  ARN: arn(id),
  SecretString: `value-of-${id}`,
  VersionId: `ver-${id}`,
  VersionStages: stages,
  CreatedDate: new Date(Date.UTC(2025, 0, 1)),
});
const controller = () => new AbortController();

function setup() {
  const fake = new FakeSecretsManagerClient();
  const clock = new FakeClock();
  const logger = captureLogger();
  const calls: { operation: string; outcome: string }[] = [];
  const source = createAwsSource({ client: fake.asClient(), region: 'us-east-1', logger, clock, onCall: (c) => calls.push(c) });
  fake.onBatch = (ids) => ({ SecretValues: ids.map((id) => entryValue(id)) });
  fake.onGet = (id, stage) => entryValue(id, [stage ?? 'AWSCURRENT']);
  return { fake, clock, logger, source, calls };
}

describe('AWS source: mapping answers to catalog names', () => {
  it('maps an ARN only to the secret whose name it carries exactly, never to a look-alike prefix', async () => {
    const { fake, source } = setup();
    const lookAlike = catalog.entry('ADMIN_TOKEN_X')!.awsId;
    // An answer that names only the look-alike's ARN: it must not be taken as ADMIN_TOKEN.
    const openai = catalog.entry('OPENAI_API_KEY')!.awsId;
    fake.onBatch = () => ({ SecretValues: [{ ...entryValue(lookAlike), Name: undefined }, entryValue(openai)] });

    const result = await source.load([catalog.entry('ADMIN_TOKEN')!, catalog.entry('OPENAI_API_KEY')!], controller().signal);

    expect(result.records.map((r) => r.name)).toEqual(['OPENAI_API_KEY']);
    expect(result.failures).toEqual([{ name: 'ADMIN_TOKEN', code: 'MissingFromBatch', transient: true }]);
  });

  it('maps an answer that carries only the ARN to its secret', async () => {
    const { fake, source } = setup();
    fake.onBatch = (ids) => ({ SecretValues: ids.map((id) => ({ ...entryValue(id), Name: undefined })) });

    const result = await source.load([catalog.entry('ADMIN_TOKEN')!, catalog.entry('ADMIN_TOKEN_X')!], controller().signal);

    expect(result.records.map((r) => [r.name, r.raw])).toEqual([
      ['ADMIN_TOKEN', `value-of-${catalog.entry('ADMIN_TOKEN')!.awsId}`],
      ['ADMIN_TOKEN_X', `value-of-${catalog.entry('ADMIN_TOKEN_X')!.awsId}`],
    ]);
  });
});

describe('AWS source: version stages', () => {
  it('refuses a batch value that does not carry AWSCURRENT, by code', async () => {
    const { fake, source } = setup();
    fake.onBatch = (ids) => ({ SecretValues: ids.map((id) => entryValue(id, id.endsWith('admin-token') ? ['AWSPREVIOUS'] : ['AWSCURRENT'])) });

    const result = await source.load([catalog.entry('ADMIN_TOKEN')!, catalog.entry('OPENAI_API_KEY')!], controller().signal);

    expect(result.records.map((r) => r.name)).toEqual(['OPENAI_API_KEY']);
    expect(result.failures).toEqual([{ name: 'ADMIN_TOKEN', code: 'NotCurrentVersion', transient: true }]);
  });

  it('refuses a previous value that does not carry AWSPREVIOUS', async () => {
    const { fake, source } = setup();
    fake.onGet = (id) => entryValue(id, ['AWSCURRENT']);

    const result = await source.loadPrevious!([catalog.entry('ADMIN_TOKEN')!], controller().signal);

    expect(result.records).toEqual([]);
    expect(result.failures).toEqual([{ name: 'ADMIN_TOKEN', code: 'NotPreviousVersion', transient: true }]);
  });
});

describe('AWS source: BatchGetSecretValue denied', () => {
  it('falls back to GetSecretValue for the whole catalog in one round of concurrent calls', async () => {
    const { fake, source } = setup();
    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };

    const result = await source.load(catalog.entries, controller().signal);

    expect(result.records).toHaveLength(catalog.entries.length);
    expect(fake.maxInFlight).toBe(catalog.entries.length);
  });

  it('tries the batch call again an hour after it was denied, and uses it once allowed', async () => {
    const { fake, clock, source, logger } = setup();
    let denied = true;
    fake.onBatch = (ids) => {
      if (denied) throw awsError('AccessDeniedException');
      return { SecretValues: ids.map((id) => entryValue(id)) };
    };
    const ops = () => fake.calls.map((c) => c.operation);

    await source.load(catalog.entries, controller().signal);
    await clock.advance(HOUR - 1);
    await source.load(catalog.entries, controller().signal);
    expect(ops().filter((o) => o === 'BatchGetSecretValue')).toHaveLength(1);

    denied = false;
    await clock.advance(1);
    fake.calls = [];
    await source.load(catalog.entries, controller().signal);
    await source.load(catalog.entries, controller().signal);

    expect(ops()).toEqual(['BatchGetSecretValue', 'BatchGetSecretValue']);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.batch_denied')).toHaveLength(1);
  });

  it('starts no per-secret call once the attempt deadline has aborted the load', async () => {
    const { fake, source } = setup();
    const abort = controller();
    fake.onBatch = () => {
      abort.abort(new Error('deadline'));
      throw awsError('AccessDeniedException');
    };

    await expect(source.load(catalog.entries, abort.signal)).rejects.toThrow();

    expect(fake.calls.map((c) => c.operation)).toEqual(['BatchGetSecretValue']);
  });
});

describe('AWS source: call observer', () => {
  it('reports every Secrets Manager call with its operation and outcome', async () => {
    const { fake, source, calls } = setup();
    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };
    fake.onGet = (id, stage) => {
      if (id.endsWith('redis-url')) throw awsError('ThrottlingException');
      return entryValue(id, [stage ?? 'AWSCURRENT']);
    };

    await source.load([catalog.entry('ADMIN_TOKEN')!, catalog.entry('REDIS_URL')!], controller().signal);

    expect(calls).toEqual([
      { operation: 'BatchGetSecretValue', outcome: 'AccessDeniedException', region: 'us-east-1' },
      { operation: 'GetSecretValue', outcome: 'ok', region: 'us-east-1' },
      { operation: 'GetSecretValue', outcome: 'ThrottlingException', region: 'us-east-1' },
    ]);
  });

  it('keeps loading when the observer throws', async () => {
    const fake = new FakeSecretsManagerClient();
    fake.onBatch = (ids) => ({ SecretValues: ids.map((id) => entryValue(id)) });
    const source = createAwsSource({
      client: fake.asClient(),
      region: 'us-east-1',
      onCall: () => {
        throw new Error('metrics broke');
      },
    });

    const result = await source.load([catalog.entry('ADMIN_TOKEN')!], controller().signal);

    expect(result.records).toHaveLength(1);
  });
});

describe('AWS source: a few secrets by name', () => {
  it('reads named secrets with one GetSecretValue each, never BatchGetSecretValue', async () => {
    const { fake, source } = setup();

    const result = await source.loadIndividually!([catalog.entry('REDIS_URL')!], controller().signal);

    expect(result.records.map((r) => r.name)).toEqual(['REDIS_URL']);
    expect(fake.calls).toEqual([{ operation: 'GetSecretValue', ids: [catalog.entry('REDIS_URL')!.awsId] }]);
  });
});

describe('AWS source: answers', () => {
  it('reads versions, creation dates and stages, reports binary secrets and batch errors by code, and notes what the answer left out', async () => {
    const { fake, source } = setup();
    const [admin, openai, wa, meta] = ['ADMIN_TOKEN', 'OPENAI_API_KEY', 'WHATSAPP_TOKEN', 'META_APP_SECRET'].map((n) => catalog.entry(n)!);
    fake.onBatch = () => ({
      SecretValues: [entryValue(admin!.awsId), { ...entryValue(openai!.awsId), SecretString: undefined }],
      Errors: [
        { SecretId: wa!.awsId, ErrorCode: 'DecryptionFailure' },
        { SecretId: admin!.awsId, ErrorCode: 'InternalServiceError' },
        { SecretId: 'not/in/the/catalog', ErrorCode: 'ResourceNotFoundException' },
      ],
    });

    const result = await source.load([admin!, openai!, wa!, meta!], controller().signal);

    expect(result.records).toEqual([
      { name: 'ADMIN_TOKEN', raw: `value-of-${admin!.awsId}`, versionId: `ver-${admin!.awsId}`, createdAtMs: Date.UTC(2025, 0, 1), stages: ['AWSCURRENT'] },
    ]);
    expect(result.failures).toEqual([
      { name: 'OPENAI_API_KEY', code: 'SecretStringMissing', transient: false },
      { name: 'WHATSAPP_TOKEN', code: 'DecryptionFailure', transient: false },
      { name: 'META_APP_SECRET', code: 'MissingFromBatch', transient: true },
    ]);
  });

  it('takes a record without version id or creation date as it comes', async () => {
    const { fake, source } = setup();
    fake.onBatch = (ids) => ({ SecretValues: ids.map((id) => ({ Name: id, SecretString: 'v', VersionStages: ['AWSCURRENT'] })) });

    const result = await source.load([catalog.entry('ADMIN_TOKEN')!, catalog.entry('REDIS_URL')!], controller().signal);

    expect(result.records).toEqual([
      { name: 'ADMIN_TOKEN', raw: 'v', stages: ['AWSCURRENT'] },
      { name: 'REDIS_URL', raw: 'v', stages: ['AWSCURRENT'] },
    ]);
  });

  it('fails the whole load with the code when every secret failed the same way, but not for secrets that do not exist', async () => {
    const { fake, source } = setup();
    const two = [catalog.entry('ADMIN_TOKEN')!, catalog.entry('REDIS_URL')!];
    fake.onBatch = () => {
      throw awsError('InternalServiceError', 500);
    };
    await expect(source.load(two, controller().signal)).rejects.toMatchObject({ sourceCode: 'InternalServiceError', transient: true });

    fake.onBatch = (ids) => ({ Errors: ids.map((id) => ({ SecretId: id, ErrorCode: 'ResourceNotFoundException' })) });
    const missing = await source.load(two, controller().signal);
    expect(missing.failures.map((f) => f.code)).toEqual(['ResourceNotFoundException', 'ResourceNotFoundException']);

    fake.onBatch = (ids) => ({ Errors: ids.map((id, i) => ({ SecretId: id, ErrorCode: i === 0 ? 'DecryptionFailure' : 'AccessDeniedException' })) });
    const mixed = await source.load(two, controller().signal);
    expect(mixed.failures.map((f) => f.code)).toEqual(['DecryptionFailure', 'AccessDeniedException']);

    fake.onGet = () => {
      throw awsError('AccessDeniedException');
    };
    await expect(source.loadIndividually!(two, controller().signal)).rejects.toMatchObject({ sourceCode: 'AccessDeniedException', transient: false });
  });

  it('makes no call for an empty list, and one batch call per 20 secrets', async () => {
    const { fake, source } = setup();
    expect(await source.load([], controller().signal)).toEqual({ records: [], failures: [] });
    expect(fake.calls).toEqual([]);

    const many = Array.from({ length: 45 }, (_, i) => ({ ...catalog.entries[0]!, name: `S_${i}`, awsId: `p/e/s-${i}` }));
    const result = await source.load(many, controller().signal);

    expect(fake.calls.map((c) => c.ids.length)).toEqual([20, 20, 5]);
    expect(result.records).toHaveLength(45);
  });

  it('reads AWSPREVIOUS by stage, and says where the source is', async () => {
    const { fake, source } = setup();
    const result = await source.loadPrevious!([catalog.entry('ADMIN_TOKEN')!], controller().signal);

    expect(fake.calls).toEqual([{ operation: 'GetSecretValue', ids: [catalog.entry('ADMIN_TOKEN')!.awsId], stage: 'AWSPREVIOUS' }]);
    expect(result.records.map((r) => r.stages)).toEqual([['AWSPREVIOUS']]);
    expect([source.kind, source.description, source.region]).toEqual(['aws', 'AWS Secrets Manager', 'us-east-1']);
  });

  it('says once per denial that it falls back, and when it will try the batch again', async () => {
    const { fake, source, logger } = setup();
    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };
    await source.load(catalog.entries, controller().signal);

    expect(logger.lines).toEqual([
      {
        level: 'warn',
        msg: 'BatchGetSecretValue denied; falling back to GetSecretValue per secret',
        obj: { event: 'secrets.batch_denied', code: 'AccessDeniedException', retryBatchInMs: HOUR },
      },
    ]);
  });

  it('falls back to GetSecretValue per secret in the same load when the batch call is throttled', async () => {
    const { fake, source, logger, calls } = setup();
    fake.onBatch = () => {
      throw awsError('ThrottlingException');
    };

    const result = await source.load(catalog.entries, controller().signal);

    expect(result.records).toHaveLength(catalog.entries.length);
    expect(calls.filter((c) => c.operation === 'GetSecretValue')).toHaveLength(catalog.entries.length);
    expect(logger.lines.map((l) => l.obj)).toEqual([{ event: 'secrets.batch_throttled', code: 'ThrottlingException', retryBatchInMs: 300_000 }]);
  });

  it('reads per secret for five minutes after a throttled batch, then tries the batch again', async () => {
    const { fake, source, clock } = setup();
    let throttle = true;
    fake.onBatch = (ids) => {
      if (throttle) throw awsError('ThrottlingException');
      return { SecretValues: ids.map((id) => entryValue(id)) };
    };
    await source.load(catalog.entries, controller().signal);
    throttle = false;

    fake.calls = [];
    await clock.advance(299_999);
    await source.load(catalog.entries, controller().signal);
    const withinMinute = fake.calls.map((c) => c.operation);
    fake.calls = [];
    await clock.advance(1);
    await source.load(catalog.entries, controller().signal);

    expect(new Set(withinMinute)).toEqual(new Set(['GetSecretValue']));
    expect(fake.calls.map((c) => c.operation)).toEqual(['BatchGetSecretValue']);
  });

  it('fails the whole load as throttled when the per-secret fallback is throttled too', async () => {
    const { fake, source } = setup();
    fake.onBatch = () => {
      throw awsError('ThrottlingException');
    };
    fake.onGet = () => {
      throw awsError('ThrottlingException');
    };

    await expect(source.load(catalog.entries, controller().signal)).rejects.toMatchObject({ sourceCode: 'ThrottlingException', transient: true });
  });

  it('rethrows an abort during a per-secret call rather than reporting it as the secret’s failure', async () => {
    const { fake, source } = setup();
    const abort = controller();
    fake.onGet = () => {
      abort.abort(new Error('deadline'));
      return new Promise(() => {});
    };

    await expect(source.loadIndividually!([catalog.entry('ADMIN_TOKEN')!], abort.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('AWS source: batch boundaries', () => {
  const secrets = (n: number) => Array.from({ length: n }, (_, i) => ({ ...catalog.entries[0]!, name: `S_${i}`, awsId: `p/e/s-${i}` }));
  const current = (id: string) => ({ Name: id, SecretString: 'v', VersionStages: ['AWSCURRENT'] });

  it('makes exactly two batch calls for 40 secrets, and says once that a denied batch falls back', async () => {
    const fake = new FakeSecretsManagerClient();
    const logger = captureLogger();
    fake.onBatch = (ids) => ({ SecretValues: ids.map(current) });
    const source = createAwsSource({ client: fake.asClient(), region: 'r', logger, clock: new FakeClock() });

    await source.load(secrets(40), new AbortController().signal);
    expect(fake.calls.map((c) => c.ids.length)).toEqual([20, 20]);

    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };
    fake.onGet = (id) => current(id);
    const result = await source.load(secrets(40), new AbortController().signal);
    expect(result.records).toHaveLength(40);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.batch_denied')).toHaveLength(1);
  });

  it('says again that it falls back when the batch is denied again exactly at its retry time', async () => {
    const fake = new FakeSecretsManagerClient();
    const logger = captureLogger();
    const clock = new FakeClock();
    fake.onBatch = () => {
      throw awsError('AccessDeniedException');
    };
    fake.onGet = (id) => current(id);
    const source = createAwsSource({ client: fake.asClient(), region: 'r', logger, clock, batchRetryMs: 1_000 });

    await source.load(secrets(2), new AbortController().signal);
    await clock.advance(1_000);
    await source.load(secrets(2), new AbortController().signal);

    expect(fake.calls.filter((c) => c.operation === 'BatchGetSecretValue')).toHaveLength(2);
    expect(logger.lines.filter((l) => l.obj.event === 'secrets.batch_denied')).toHaveLength(2);
  });

  it('keeps the SDK error as the cause of a whole failure', async () => {
    const fake = new FakeSecretsManagerClient();
    const denied = awsError('InternalServiceError', 500);
    fake.onBatch = () => {
      throw denied;
    };
    const source = createAwsSource({ client: fake.asClient(), region: 'r' });

    const err = await source.load(secrets(2), new AbortController().signal).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).cause).toBe(denied);
  });

  it('hands the abort signal to the batch call, so a deadline ends it', async () => {
    const fake = new FakeSecretsManagerClient();
    const abort = new AbortController();
    fake.onBatch = () => {
      abort.abort(new Error('deadline'));
      return new Promise(() => {});
    };
    const source = createAwsSource({ client: fake.asClient(), region: 'r' });

    await expect(source.load(secrets(1), abort.signal)).rejects.toThrow('deadline');
  });
});
