import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { createAll, localClient, useLocalAws } from '../support/local-aws.js';
import { cliDeps } from './support.js';

const lsm = useLocalAws({ each: true });
beforeEach(async () => {
  await createAll(localClient(lsm), whatsappSaasCatalog(), { ADMIN_TOKEN: 'canary-status-admin-1a2b', OPENAI_MODEL: 'gpt-4o' });
});

const ESC = '\u001b[';

describe('secrets status, the human table', () => {
  it('aligns every column, marks a missing required secret MISSING and an absent optional one no', async () => {
    const c = await cliDeps(lsm);

    expect(await run(['status'], c.deps)).toBe(1);

    const lines = c.stdout().trimEnd().split('\n').slice(1);
    const header = lines[0]!;
    for (const column of ['EXISTS', 'VERSION', 'LAST CHANGED', 'ROTATION']) {
      const at = header.indexOf(column);
      for (const line of lines.slice(1)) expect(line[at - 1], `${column} in ${line}`).toBe(' ');
    }
    expect(lines.find((l) => l.startsWith('DATABASE_URL'))).toMatch(/^DATABASE_URL\s+MISSING\s/);
    expect(lines.find((l) => l.startsWith('WHATSAPP_ACCESS_TOKEN'))).toMatch(/^WHATSAPP_ACCESS_TOKEN\s+no\s/);
    expect(c.stdout()).not.toContain(ESC);
  });

  it('colours the table only on a terminal, and never with NO_COLOR', async () => {
    const terminal = await cliDeps(lsm, { terminal: { stdout: true, stderr: true } });
    const noColor = await cliDeps(lsm, { terminal: { stdout: true, stderr: true }, env: { NO_COLOR: '1' } });
    const json = await cliDeps(lsm, { terminal: { stdout: true, stderr: true } });

    await run(['status'], terminal.deps);
    await run(['status'], noColor.deps);
    await run(['status', '--json'], json.deps);

    expect(terminal.stdout()).toContain(`${ESC}31mMISSING${ESC}39m`);
    expect(noColor.stdout()).not.toContain(ESC);
    expect(json.stdout()).not.toContain(ESC);
  });
});
