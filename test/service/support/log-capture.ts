/** A pino destination that keeps every line: for assertions and canary scans. */
export interface LogCapture {
  readonly stream: { write(line: string): void };
  lines(): Record<string, unknown>[];
  text(): string;
  clear(): void;
}

export function captureLogs(): LogCapture {
  let chunks: string[] = [];
  return {
    stream: { write: (line: string) => void chunks.push(line) },
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => chunks.join(''),
    clear: () => {
      chunks = [];
    },
  };
}
