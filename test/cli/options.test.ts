import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { parseCliArgs } from '../../src/cli/options.js';

function usageError(argv: string[]): string {
  try {
    parseCliArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe('USAGE');
    return (err as CliError).message;
  }
  throw new Error('expected a usage error');
}

describe('parseCliArgs', () => {
  it('names an unknown option with nothing unbalanced around it', () => {
    expect(usageError(['status', '--frobnicate'])).toBe('Unknown option --frobnicate');
    expect(usageError(['status', '-x'])).toBe('Unknown option -x');
  });

  it('says which option lacks its value, or takes none', () => {
    expect(usageError(['status', '--region'])).toBe('Option --region needs a value');
    expect(usageError(['status', '--json=yes'])).toBe('Option --json takes no value');
  });

  it('drops the leading -- that the npm script and the bin put before the arguments', () => {
    const { values, positionals } = parseCliArgs(['--', 'init', '--env-file', 'x.env']);

    expect(positionals).toEqual(['init']);
    expect(values['env-file']).toBe('x.env');
  });
});
