import type { LogStream } from './startup-log-gate.js';

/**
 * Human log lines for a developer's terminal (`npm run dev` with stdout a TTY): pino-pretty as
 * an in-process stream, written synchronously so nothing is lost when the process exits. pino
 * redacts and serializes before this sees a line, so it prints nothing JSON would not.
 * Imported only in dev: pino-pretty is a devDependency, and production always logs JSON.
 */
export async function prettyLogStream(options: { readonly colorize: boolean }): Promise<LogStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    colorize: options.colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    destination: 1,
    sync: true,
  });
}
