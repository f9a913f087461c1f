/** Creating a local `.env` failed; the message names the path and the system error code, never content. */
export class EnvFileCreateError extends Error {
  readonly code = 'ENV_FILE_FAILED';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvFileCreateError';
  }
}
