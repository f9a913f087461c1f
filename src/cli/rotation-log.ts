import { appendFile } from 'node:fs/promises';

/** One line per rotation, rollback or cancelled rotation: who, what, which versions. Never a value. */
export interface RotationLogEntry {
  readonly at: string;
  /**
   * `cancel`: a rollback that removed an unfinished rotation's AWSPENDING version. `overwrite`:
   * `setup --overwrite NAME` replaced a rotated value with the file's value.
   */
  readonly action: 'rotate' | 'rollback' | 'cancel' | 'overwrite';
  readonly secretId: string;
  readonly fromVersionId: string | null;
  readonly toVersionId: string;
  /** immediate or graceful for tokens; the kind's own strategy otherwise. */
  readonly strategy?: string;
  /** The rotation finished a version an earlier run had started. */
  readonly resumed?: true;
  readonly caller: string;
}

export const DEFAULT_ROTATION_LOG = 'admin-token-rotation.log';

/** The default log of a kind: `admin-token-rotation.log`, `meta-verify-token-rotation.log`. */
export function rotationLogPath(kind: string): string {
  return `${kind}-rotation.log`;
}

export async function appendRotationLog(path: string, entry: RotationLogEntry): Promise<void> {
  await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}
