/** A terminal spinner (yocto-spinner in the bin entry); absent when stderr is not a terminal. */
export interface Spinner {
  text(text: string): void;
  /** Stops and clears the spinner line. */
  stop(): void;
}

export type SpinnerFactory = (text: string) => Spinner;

export interface Progress {
  /** What is being waited on now: the spinner's text on a terminal, nothing elsewhere. */
  working(text: string): void;
  /** One finished item: a line of its own, printed at once. */
  done(line: string): void;
  /** Stops the spinner; call before the final output. */
  finish(): void;
}

/**
 * Progress for long commands (`setup`, `rotate --notify`): a line per finished item as it
 * finishes, and a spinner for the wait between items only on a terminal, so logs and pipes get
 * plain lines.
 */
export function createProgress(write: (text: string) => void, spinner?: SpinnerFactory): Progress {
  let current: Spinner | undefined;
  let waitingOn: string | undefined;
  return {
    working(text) {
      waitingOn = text;
      if (spinner === undefined) return;
      if (current === undefined) current = spinner(text);
      else current.text(text);
    },
    done(line) {
      // The spinner's line is cleared first so the finished line never lands inside it.
      current?.stop();
      current = undefined;
      write(`${line}\n`);
      if (spinner !== undefined && waitingOn !== undefined) current = spinner(waitingOn);
    },
    finish() {
      waitingOn = undefined;
      current?.stop();
      current = undefined;
    },
  };
}
