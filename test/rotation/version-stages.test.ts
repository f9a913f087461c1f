import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { moveStage, readVersions, versionsOf } from '../../src/rotation/version-stages.js';

const v = (versionId: string, ...stages: string[]) => ({ versionId, stages, createdMs: undefined });

describe('versionsOf', () => {
  it('finds who holds AWSCURRENT, AWSPREVIOUS and any label', () => {
    const versions = versionsOf([v('b', 'AWSCURRENT', 'ROTATION_IMMEDIATE'), v('a', 'AWSPREVIOUS', 'ROLLED_BACK')]);
    expect(versions.current?.versionId).toBe('b');
    expect(versions.previous?.versionId).toBe('a');
    expect(versions.holderOf('ROLLED_BACK')?.versionId).toBe('a');
    expect(versions.holderOf('AWSPENDING')).toBeUndefined();
  });

  it('calls a version under AWSPENDING unfinished only when it is neither current nor previous', () => {
    expect(versionsOf([v('c', 'AWSPENDING'), v('b', 'AWSCURRENT')]).unfinished?.versionId).toBe('c');
    // AWS may leave AWSPENDING on the version it made current; rolled back, that version is AWSPREVIOUS.
    expect(versionsOf([v('b', 'AWSCURRENT', 'AWSPENDING')]).unfinished).toBeUndefined();
    expect(versionsOf([v('b', 'AWSPREVIOUS', 'AWSPENDING'), v('a', 'AWSCURRENT')]).unfinished).toBeUndefined();
  });
});

/** A client (a real one: the paginator checks) that sends nothing: it records each command and answers with `pages`, one per call. */
function recording(pages: Record<string, unknown>[] = []) {
  const sent: { name: string; input: unknown }[] = [];
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  Object.assign(client, {
    send: async (command: { constructor: { name: string }; input: unknown }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return pages.shift() ?? {};
    },
  });
  return { client, sent };
}

describe('moveStage', () => {
  it('moves a label naming the version it takes it from, or only adds or only removes it', async () => {
    const r = recording();

    await moveStage(r.client, 's', 'AWSCURRENT', { to: 'b', from: 'a' });
    await moveStage(r.client, 's', 'ROTATION_IMMEDIATE', { to: 'b', from: undefined });
    await moveStage(r.client, 's', 'AWSPENDING', { to: undefined, from: 'b' });

    expect(r.sent).toEqual([
      { name: 'UpdateSecretVersionStageCommand', input: { SecretId: 's', VersionStage: 'AWSCURRENT', MoveToVersionId: 'b', RemoveFromVersionId: 'a' } },
      { name: 'UpdateSecretVersionStageCommand', input: { SecretId: 's', VersionStage: 'ROTATION_IMMEDIATE', MoveToVersionId: 'b' } },
      { name: 'UpdateSecretVersionStageCommand', input: { SecretId: 's', VersionStage: 'AWSPENDING', RemoveFromVersionId: 'b' } },
    ]);
  });

  it('makes no call when the label is already where it should be, or on no version at all', async () => {
    const r = recording();

    await moveStage(r.client, 's', 'AWSCURRENT', { to: 'a', from: 'a' });
    await moveStage(r.client, 's', 'ROLLED_BACK', { to: undefined, from: undefined });

    expect(r.sent).toEqual([]);
  });
});

describe('readVersions', () => {
  it('reads every page, skips entries without an id, and lists the versions newest first', async () => {
    const at = (iso: string) => new Date(iso);
    const r = recording([
      { Versions: [{ VersionId: 'old', VersionStages: ['AWSPREVIOUS'], CreatedDate: at('2026-01-01T00:00:00Z') }, { VersionStages: ['AWSPENDING'] }], NextToken: 'p2' },
      { Versions: [{ VersionId: 'new', VersionStages: ['AWSCURRENT'], CreatedDate: at('2026-03-01T00:00:00Z') }, { VersionId: 'undated' }] },
    ]);

    const versions = await readVersions(r.client, 's');

    expect(versions.versions).toEqual([
      { versionId: 'new', stages: ['AWSCURRENT'], createdMs: Date.parse('2026-03-01T00:00:00Z') },
      { versionId: 'old', stages: ['AWSPREVIOUS'], createdMs: Date.parse('2026-01-01T00:00:00Z') },
      { versionId: 'undated', stages: [], createdMs: undefined },
    ]);
    expect(versions.current?.versionId).toBe('new');
    expect(r.sent.map((c) => c.input)).toMatchObject([{ SecretId: 's' }, { SecretId: 's', NextToken: 'p2' }]);
  });
});

describe('readVersions order', () => {
  it('puts the newest version first whatever order the pages list them in', async () => {
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    const r = recording([{ Versions: [2, 4, 1, 3].map((day) => ({ VersionId: `d${day}`, CreatedDate: at(day) })) }]);

    const versions = await readVersions(r.client, 's');

    expect(versions.versions.map((v) => v.versionId)).toEqual(['d4', 'd3', 'd2', 'd1']);
  });
});
