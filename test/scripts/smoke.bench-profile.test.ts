import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_SERVER } from '../service/support/postgres.js';
import { SHARED_REDIS_URL } from '../service/support/redis-server.js';
import { quickBenchEnv, runScript } from './support/npm-script.js';

/** `npm run bench:profile` in its quick mode: the load line, both self-time lists and the profile's path. */
describe('npm run bench:profile (quick)', () => {
  it('prints the webhook load, the top functions and packages by self time, and where the profile is', async () => {
    const { code, stdout, stderr } = await runScript('bench:profile', [], { env: quickBenchEnv(SHARED_SERVER, SHARED_REDIS_URL), timeoutMs: 90_000 });
    const profile = /^profile: (\/\S+\.cpuprofile)$/m.exec(stdout)?.[1];
    if (profile !== undefined) await rm(dirname(profile), { recursive: true, force: true });

    expect(code, stderr).toBe(0);
    expect(profile).toBeDefined();
    expect(stdout).toMatch(/^POST \/webhook, 100 connections, 1 s: \d+ req\/s, p50 \d+ ms, p99 \d+ ms, failed \d+$/m);
    expect(stdout).toMatch(/^self time, top functions \(\d+ samples\):\n( *\d+\.\d% {2}\S.*\n)+/m);
    expect(stdout).toMatch(/^self time by package:\n( *\d+\.\d% {2}\S.*\n)+/m);
  });
});
