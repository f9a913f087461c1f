import { describe, expect, it } from 'vitest';
import { versionsOf } from '../../src/rotation/version-stages.js';

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
