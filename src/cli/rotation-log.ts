import { appendFile } from 'node:fs/promises';

/** One line a rotation or rollback: who, what, which versions. Never a value. */
export interface RotationLogEntry {
  readonly at: string;
  readonly action: 'rotate' | 'rollback';
  readonly secretId: string;
  readonly fromVersionId: string | null;
  readonly toVersionId: string;
  readonly strategy?: 'immediate' | 'graceful';
  readonly caller: string;
}

export const DEFAULT_ROTATION_LOG = 'admin-token-rotation.log';

export async function appendRotationLog(path: string, entry: RotationLogEntry): Promise<void> {
  await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}
