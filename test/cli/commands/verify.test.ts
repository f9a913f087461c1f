import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { rotationCliFixture } from '../../rotation/support/rotation-cli.js';
import { startStandInService } from '../../rotation/support/stand-in-service.js';

const T0 = 'canary-verify-original-N8m7B6v5c4';

const cli = rotationCliFixture(T0, 'vf');
const { scenario } = cli;
const secretsCli = (argv: string[], cwd: string, confirm?: (q: string) => Promise<boolean>) => cli.secretsCli(argv, { cwd, ...(confirm !== undefined && { confirm }) });

describe('secrets verify admin-token', () => {
  it('hints that instances may not have refreshed when the service refuses the current token after a rollback', async () => {
    const { project, cwd } = await scenario();
    const service = await startStandInService(cli.lsm, project);
    try {
      await secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project, '--notify', service.url], cwd);
      await secretsCli(['rollback', 'admin-token', '--yes', '--project', project], cwd);

      const stale = await secretsCli(['verify', 'admin-token', '--project', project, '--url', service.url], cwd);

      expect(stale.code).toBe(1);
      expect(stale.stdout).toContain('[FAIL] service accepts current token: HTTP 401');
      expect(stale.stdout).toContain(`hint: instances may not have refreshed since the last rotation or rollback: POST ${service.url}/admin/refresh-secrets`);
      const json = await secretsCli(['verify', 'admin-token', '--project', project, '--url', service.url, '--json'], cwd);
      const checks = (JSON.parse(json.stdout) as { checks: { check: string; hint?: string }[] }).checks;
      expect(checks.find((c) => c.check === 'service accepts current token')!.hint).toMatch(/may not have refreshed/);

      await service.engine.refresh();
      const fresh = await secretsCli(['verify', 'admin-token', '--project', project, '--url', service.url], cwd);
      expect(fresh.code).toBe(0);
      expect(fresh.stdout).toContain('[OK] service refuses previous token (immediate rotation): HTTP 401');
      expect(fresh.stdout).not.toContain('hint:');
    } finally {
      await service.close();
    }
  });

  it('fails while a rotation is unfinished and says how to finish or cancel it', async () => {
    const { project, cwd } = await scenario();
    // The switch is refused (the claim before it is not): the rotation stays pending.
    const refuseSwitch = async (_n: number, name: string, input: Record<string, unknown>) => {
      if (name === 'UpdateSecretVersionStageCommand' && input.VersionStage === 'AWSCURRENT') {
        throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
    };
    expect((await cli.secretsCli(['rotate', 'admin-token', '--yes', '--print', '--project', project], { cwd, faults: { beforeSend: refuseSwitch } })).code).toBe(1);

    const { code, stdout } = await secretsCli(['verify', 'admin-token', '--project', project], cwd);

    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] no unfinished rotation: version \S+ is AWSPENDING/);
    expect(stdout).toContain('hint: finish it with the same "secrets rotate admin-token" command, or cancel it with "secrets rollback admin-token"');
  });

  it('explains a 429: this client is locked out, for how long, and how to clear it', async () => {
    const { project, cwd } = await scenario();
    const lockedOut = createServer((_req, res) => res.writeHead(429, { 'retry-after': '540', 'content-type': 'application/json' }).end('{}'));
    lockedOut.listen(0, '127.0.0.1');
    await once(lockedOut, 'listening');
    try {
      const url = `http://127.0.0.1:${(lockedOut.address() as AddressInfo).port}`;

      const { code, stdout } = await secretsCli(['verify', 'admin-token', '--project', project, '--url', url], cwd);

      expect(code).toBe(1);
      expect(stdout).toContain('[FAIL] service accepts current token: HTTP 429: this client is locked out after too many failed admin tokens; retry in 540 s');
      expect(stdout).toContain('hint: clear the lockout at once with redis-cli DEL admin-auth-failures:<your address> (README: "Admin lockout"), or wait');
    } finally {
      lockedOut.close();
    }
  });
});
