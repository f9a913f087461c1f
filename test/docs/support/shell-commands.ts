import { parse, type ParseEntry } from 'shell-quote';

/** One simple command of a shell block: its words, as the shell would split them. */
export interface ShellCommand {
  /** Words after leading assignments and wrappers (`sudo`, `env`, `exec`, `time`). */
  readonly argv: readonly string[];
  /** The logical line it came from (continuations joined), for messages and for running it alone. */
  readonly line: string;
  /** 1-based line within the block where that logical line starts. */
  readonly lineInBlock: number;
}

/** A word that holds an expansion: its value is only known when the shell runs it. */
export const DYNAMIC = '\u0000';

const SEPARATORS = new Set(['&&', '||', ';', ';;', '|', '|&', '&', '(', ')']);
const REDIRECTS = new Set(['>', '>>', '<', '<<', '<<<', '>&', '<&', '<(', '>(']);
const WRAPPERS = new Set(['sudo', 'env', 'exec', 'time', 'command', 'nohup']);

/**
 * The logical lines of a shell block: backslash-newline continuations joined (as the shell does),
 * blank and comment-only lines dropped.
 */
export function logicalLines(code: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const physical = code.split('\n');
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let text = physical[i]!;
    while (text.endsWith('\\') && i + 1 < physical.length) text = text.slice(0, -1) + physical[++i]!;
    if (text.trim() !== '' && !text.trim().startsWith('#')) out.push({ text, line: start + 1 });
  }
  return out;
}

/**
 * Splits a shell block into simple commands with shell-quote: quotes and escapes resolved,
 * `$VAR` and `$(...)` kept as dynamic words (marked with DYNAMIC), operators and redirections
 * taken out, comments dropped.
 */
export function shellCommands(code: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  for (const { text, line } of logicalLines(code)) {
    const entries = parse(text, (name) => `${DYNAMIC}${name}`);
    let words: string[] = [];
    let skipNext = false;
    const flush = () => {
      const argv = stripPrefix(words);
      if (argv.length > 0) commands.push({ argv, line: text, lineInBlock: line });
      words = [];
    };
    for (const entry of entries as ParseEntry[]) {
      if (typeof entry === 'string') {
        if (skipNext) skipNext = false;
        else words.push(entry);
        continue;
      }
      if ('comment' in entry) break;
      if ('op' in entry && entry.op === 'glob') {
        words.push((entry as { pattern: string }).pattern);
        continue;
      }
      const op = (entry as { op: string }).op;
      if (REDIRECTS.has(op)) skipNext = true;
      else if (SEPARATORS.has(op)) flush();
    }
    flush();
  }
  return commands;
}

/** Drops `VAR=value` assignments and wrappers in front of the program. */
function stripPrefix(words: readonly string[]): string[] {
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || WRAPPERS.has(words[i]!))) i++;
  return words.slice(i);
}
