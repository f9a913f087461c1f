/** Where pino writes: one JSON line (or a pretty one) per call. */
export interface LogStream {
  write(line: string): unknown;
}

export interface StartupLogGate {
  /** Give this to the logger: lines are held until open() or discard(). */
  readonly stream: LogStream;
  /** Start-up went on: write what was held, then pass everything through. */
  open(): void;
  /** Start-up failed with a line of its own that says it all: drop what was held, pass later lines. */
  discard(): void;
}

/**
 * Holds the start-up log lines on a developer's terminal until start-up has gone far enough to
 * matter. A missing secret then prints one human line, not a screenful of log lines restating it.
 * Only for the dev console: JSON output (production, pipes) is never held.
 */
export function createStartupLogGate(target: LogStream): StartupLogGate {
  let held: string[] | undefined = [];
  return {
    stream: {
      write(line) {
        if (held === undefined) return target.write(line);
        held.push(line);
        return true;
      },
    },
    open() {
      const lines = held ?? [];
      held = undefined;
      for (const line of lines) target.write(line);
    },
    discard() {
      held = undefined;
    },
  };
}
