import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../src/local-aws/errors.js';
import { AWSCURRENT, AWSPREVIOUS, MAX_VERSIONS_PER_SECRET, SecretStore, type SecretRecord } from '../../src/local-aws/store.js';

const DAY_MS = 24 * 60 * 60 * 1000;

class FakeClock {
  constructor(public nowMs = Date.UTC(2026, 0, 15, 10, 30)) {}
  now(): number {
    return this.nowMs;
  }
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

function stagesOf(secret: SecretRecord): Record<string, string[]> {
  return Object.fromEntries([...secret.versions.values()].map((v) => [v.versionId, [...v.stages]]));
}

function errorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof AwsServiceError) return error.code;
    throw error;
  }
  return undefined;
}

describe('SecretStore', () => {
  let clock: FakeClock;
  let store: SecretStore;

  beforeEach(() => {
    clock = new FakeClock();
    store = new SecretStore({ region: 'eu-west-1', accountId: '000000000000', clock });
  });

  function createWithValue(name = 'app/token', value = 'v1'): { secret: SecretRecord; firstVersion: string } {
    const firstVersion = randomUUID();
    const { secret } = store.create({ name, tags: [], versionId: firstVersion, payload: { secretString: value } });
    return { secret, firstVersion };
  }

  it('gives a new secret an ARN with the region, account, name and a 6-character suffix', () => {
    const { secret } = createWithValue('whatsapp-saas/mvp/admin-token');
    expect(secret.arn).toMatch(/^arn:aws:secretsmanager:eu-west-1:000000000000:secret:whatsapp-saas\/mvp\/admin-token-[A-Za-z0-9]{6}$/);
  });

  it('finds a secret by name, full ARN and partial ARN', () => {
    const { secret } = createWithValue('db-url');
    expect(store.find('db-url')).toBe(secret);
    expect(store.find(secret.arn)).toBe(secret);
    expect(store.find('arn:aws:secretsmanager:eu-west-1:000000000000:secret:db-url')).toBe(secret);
    expect(store.find('arn:aws:secretsmanager:eu-west-1:000000000000:secret:db-url-XXXXXX')).toBeUndefined();
  });

  it('labels the first version AWSCURRENT', () => {
    const { secret, firstVersion } = createWithValue();
    expect(stagesOf(secret)).toEqual({ [firstVersion]: [AWSCURRENT] });
  });

  it('moves AWSCURRENT to a new value and AWSPREVIOUS to the version it left', () => {
    const { secret, firstVersion } = createWithValue();
    const second = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' } });
    const third = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v3' } });

    expect(stagesOf(secret)).toEqual({
      [firstVersion]: [],
      [second.versionId]: [AWSPREVIOUS],
      [third.versionId]: [AWSCURRENT],
    });
  });

  it('attaches only the given labels when a value is put with VersionStages', () => {
    const { secret, firstVersion } = createWithValue();
    const pending = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' }, stages: ['AWSPENDING'] });

    expect(stagesOf(secret)).toEqual({ [firstVersion]: [AWSCURRENT], [pending.versionId]: ['AWSPENDING'] });
  });

  it('also labels AWSCURRENT the first version of a secret created without a value', () => {
    const { secret } = store.create({ name: 'empty', tags: [], versionId: randomUUID() });
    const first = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v1' }, stages: ['AWSPENDING'] });

    expect([...first.stages]).toEqual(['AWSPENDING', AWSCURRENT]);
  });

  it('returns the same version for a repeated ClientRequestToken with the same value', () => {
    const { secret } = createWithValue();
    const token = randomUUID();
    const first = store.putValue(secret, { versionId: token, payload: { secretString: 'v2' } });
    const again = store.putValue(secret, { versionId: token, payload: { secretString: 'v2' } });

    expect(again).toBe(first);
    expect(secret.versions.size).toBe(2);
  });

  it('refuses a repeated ClientRequestToken with another value', () => {
    const { secret } = createWithValue();
    const token = randomUUID();
    store.putValue(secret, { versionId: token, payload: { secretString: 'v2' } });

    expect(errorCode(() => store.putValue(secret, { versionId: token, payload: { secretString: 'other' } }))).toBe(
      'ResourceExistsException',
    );
  });

  it('drops the oldest unlabelled versions past 100 versions', () => {
    const { secret, firstVersion } = createWithValue();
    const ids = [firstVersion];
    for (let i = 0; i < MAX_VERSIONS_PER_SECRET + 5; i += 1) {
      ids.push(store.putValue(secret, { versionId: randomUUID(), payload: { secretString: `v${i}` } }).versionId);
    }

    expect(secret.versions.size).toBe(MAX_VERSIONS_PER_SECRET);
    expect([...secret.versions.keys()]).toEqual(ids.slice(-MAX_VERSIONS_PER_SECRET));
  });

  it('keeps labelled versions however old when pruning', () => {
    const { secret, firstVersion } = createWithValue();
    store.updateVersionStage(secret, { stage: 'KEEP', moveToVersionId: firstVersion });
    for (let i = 0; i < MAX_VERSIONS_PER_SECRET + 5; i += 1) {
      store.putValue(secret, { versionId: randomUUID(), payload: { secretString: `v${i}` } });
    }

    expect(secret.versions.has(firstVersion)).toBe(true);
    expect(secret.versions.size).toBe(MAX_VERSIONS_PER_SECRET);
  });

  describe('updateVersionStage', () => {
    it('rolls back: AWSCURRENT moves to the previous version and AWSPREVIOUS to the one it left', () => {
      const { secret, firstVersion } = createWithValue();
      const second = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' } });

      store.updateVersionStage(secret, { stage: AWSCURRENT, moveToVersionId: firstVersion, removeFromVersionId: second.versionId });

      expect(stagesOf(secret)).toEqual({ [firstVersion]: [AWSCURRENT], [second.versionId]: [AWSPREVIOUS] });
    });

    it('refuses to move a label without RemoveFromVersionId while another version has it', () => {
      const { secret, firstVersion } = createWithValue();
      store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' } });

      expect(errorCode(() => store.updateVersionStage(secret, { stage: AWSCURRENT, moveToVersionId: firstVersion }))).toBe(
        'InvalidParameterException',
      );
    });

    it('refuses a RemoveFromVersionId that is not the version holding the label', () => {
      const { secret, firstVersion } = createWithValue();
      const second = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' } });
      const third = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v3' } });

      expect(
        errorCode(() =>
          store.updateVersionStage(secret, { stage: AWSCURRENT, moveToVersionId: firstVersion, removeFromVersionId: second.versionId }),
        ),
      ).toBe('InvalidParameterException');
      expect(third.stages.has(AWSCURRENT)).toBe(true);
    });

    it('lets exactly one of two rollbacks that read the same state win', () => {
      const { secret, firstVersion } = createWithValue();
      const second = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' } });
      const rollback = { stage: AWSCURRENT, moveToVersionId: firstVersion, removeFromVersionId: second.versionId };

      store.updateVersionStage(secret, rollback);
      expect(errorCode(() => store.updateVersionStage(secret, rollback))).toBe('InvalidParameterException');
      expect(stagesOf(secret)).toEqual({ [firstVersion]: [AWSCURRENT], [second.versionId]: [AWSPREVIOUS] });
    });

    it('removes a custom label and leaves the version deprecated', () => {
      const { secret, firstVersion } = createWithValue();
      const pending = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' }, stages: ['AWSPENDING'] });

      store.updateVersionStage(secret, { stage: 'AWSPENDING', removeFromVersionId: pending.versionId });

      expect(stagesOf(secret)).toEqual({ [firstVersion]: [AWSCURRENT], [pending.versionId]: [] });
    });

    it('refuses to remove AWSCURRENT without moving it', () => {
      const { secret, firstVersion } = createWithValue();
      expect(errorCode(() => store.updateVersionStage(secret, { stage: AWSCURRENT, removeFromVersionId: firstVersion }))).toBe(
        'InvalidParameterException',
      );
    });

    it('answers ResourceNotFoundException for a MoveToVersionId the secret does not have', () => {
      const { secret } = createWithValue();
      expect(errorCode(() => store.updateVersionStage(secret, { stage: 'X', moveToVersionId: randomUUID() }))).toBe(
        'ResourceNotFoundException',
      );
    });

    it('leaves AWSPREVIOUS alone when a custom label moves', () => {
      const { secret, firstVersion } = createWithValue();
      const second = store.putValue(secret, { versionId: randomUUID(), payload: { secretString: 'v2' } });
      store.updateVersionStage(secret, { stage: 'BLUE', moveToVersionId: second.versionId });

      store.updateVersionStage(secret, { stage: 'BLUE', moveToVersionId: firstVersion, removeFromVersionId: second.versionId });

      expect(stagesOf(secret)).toEqual({ [firstVersion]: [AWSPREVIOUS, 'BLUE'], [second.versionId]: [AWSCURRENT] });
    });
  });

  it('records access at day resolution', () => {
    const { secret } = createWithValue();
    const version = store.readVersion(secret, {});
    expect(version.lastAccessedMs).toBe(Date.UTC(2026, 0, 15));
    expect(secret.lastAccessedMs).toBe(Date.UTC(2026, 0, 15));
  });

  it('hides a secret scheduled for deletion from value reads and restores it', () => {
    const { secret } = createWithValue();
    const deletionMs = store.scheduleDeletion(secret, 7);

    expect(deletionMs).toBe(clock.now() + 7 * DAY_MS);
    expect(errorCode(() => store.getActive('app/token'))).toBe('InvalidRequestException');
    store.restore(secret);
    expect(store.getActive('app/token')).toBe(secret);
  });

  it('forgets a secret once its recovery window has passed', () => {
    const { secret } = createWithValue();
    store.scheduleDeletion(secret, 7);

    clock.advance(7 * DAY_MS - 1);
    expect(store.find('app/token')).toBe(secret);
    clock.advance(1);
    expect(store.find('app/token')).toBeUndefined();
  });

  it('refuses to create a secret whose name is scheduled for deletion', () => {
    const { secret } = createWithValue();
    store.scheduleDeletion(secret, 30);
    expect(errorCode(() => createWithValue())).toBe('InvalidRequestException');
  });

  it('gives a secret created again after a forced delete a new ARN', () => {
    const { secret } = createWithValue();
    store.forceDelete(secret);
    const again = createWithValue().secret;

    // The random suffix is what keeps users of the old ARN away from the new secret.
    expect(again.arn).not.toBe(secret.arn);
    expect(store.find(secret.arn)).toBeUndefined();
    expect(store.find(again.arn)).toBe(again);
  });
});
