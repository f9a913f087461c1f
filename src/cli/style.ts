import { styleText } from 'node:util';

/** Colour for one stream: only on a terminal, and never when NO_COLOR is set (no-color.org). */
export function colorEnabled(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

type Format = Parameters<typeof styleText>[0];
// Node 22+ would strip colour by itself when process.stdout is not a terminal; the decision is
// made once, by colorEnabled, for the stream the text goes to. Node 20's types lack the option.
const paint = styleText as (format: Format, text: string, options?: { validateStream?: boolean }) => string;

export interface Style {
  readonly ok: (text: string) => string;
  readonly warn: (text: string) => string;
  readonly bad: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
}

const PLAIN: Style = { ok: String, warn: String, bad: String, dim: String, bold: String };

/** Colours for CLI output; identity functions when colour is off. */
export function createStyle(enabled: boolean): Style {
  if (!enabled) return PLAIN;
  const as = (format: Format) => (text: string) => paint(format, text, { validateStream: false });
  return { ok: as('green'), warn: as('yellow'), bad: as('red'), dim: as('dim'), bold: as('bold') };
}
