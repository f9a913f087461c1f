/**
 * A value kind's failure reason with what it expects, said once: some reasons already carry
 * "(expected ...)", and appending the label again doubled it. Never contains the value.
 */
export function invalidReason(reason: string, label: string): string {
  return reason.includes('expected') ? reason : `${reason} (expected ${label})`;
}
