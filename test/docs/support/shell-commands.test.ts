import { describe, expect, it } from 'vitest';
import { DYNAMIC, logicalLines, shellCommands } from './shell-commands.js';

describe('shellCommands', () => {
  it('joins continuations, drops comments, assignments and wrappers, and splits at operators', () => {
    const code = ['# a comment', 'X=1 sudo npm run secrets -- rotate admin-token \\', '  --yes && echo done | cat > out.txt # trailing', ''].join('\n');

    const commands = shellCommands(code);

    expect(commands.map((c) => c.argv)).toEqual([['npm', 'run', 'secrets', '--', 'rotate', 'admin-token', '--yes'], ['echo', 'done'], ['cat']]);
    expect(commands[0]!.lineInBlock).toBe(2);
  });

  it('keeps variables and command substitutions as dynamic words', () => {
    const [command] = shellCommands('curl -H "x-admin-token: $(cat t.txt)" "$URL"');

    expect(command!.argv[2]).toContain(DYNAMIC);
    expect(command!.argv[3]).toBe(`${DYNAMIC}URL`);
  });

  it('gives the logical lines of a block with the line each starts on', () => {
    expect(logicalLines('a \\\n  b\n\n# c\nd')).toEqual([
      { text: 'a   b', line: 1 },
      { text: 'd', line: 5 },
    ]);
  });
});
