import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { loadServiceConfig } from '../../src/service/config.js';
import { environmentOf, lastValue, parseUnitFile, type UnitFile } from './support/systemd-unit.js';

const REPO = join(import.meta.dirname, '../..');
const UNIT = join(REPO, 'deploy/whatsapp-saas.service');
const run = promisify(execFile);
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const SECRET_NAMES = new Set(whatsappSaasCatalog().entries.map((e) => e.name));

describe('deploy/whatsapp-saas.service', () => {
  let unit: UnitFile;

  beforeAll(async () => {
    unit = parseUnitFile(await readFile(UNIT, 'utf8'));
  });

  it('has the three sections and starts the built entry with node after the network is up', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(lastValue(unit, 'Unit', 'After')).toBe('network-online.target');
    expect(lastValue(unit, 'Unit', 'Wants')).toBe('network-online.target');
    expect(lastValue(unit, 'Service', 'ExecStart')).toBe('/usr/bin/node /opt/whatsapp-saas/dist/service/main.js');
    expect(lastValue(unit, 'Service', 'WorkingDirectory')).toBe('/opt/whatsapp-saas');
    expect(lastValue(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(lastValue(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
  });

  it('runs as a dedicated unprivileged user', () => {
    const user = lastValue(unit, 'Service', 'User');

    expect(user).toBe('whatsapp-saas');
    expect(lastValue(unit, 'Service', 'Group')).toBe(user);
    expect(lastValue(unit, 'Service', 'DynamicUser')).toBeUndefined();
  });

  it('is hardened: no new privileges, read-only system, no capabilities, private /tmp and devices', () => {
    const hardening = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      RestrictNamespaces: 'yes',
      LockPersonality: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      SystemCallFilter: '@system-service',
      UMask: '0077',
    };

    for (const [key, value] of Object.entries(hardening)) expect(lastValue(unit, 'Service', key), key).toBe(value);
    expect(lastValue(unit, 'Service', 'ReadWritePaths')).toBeUndefined();
  });

  it('reads secrets from Secrets Manager and per-host settings from an EnvironmentFile, with no secret in the unit', () => {
    const env = environmentOf(unit);

    expect(env.USE_AWS_SECRETS).toBe('true');
    expect(loadServiceConfig(env)).toMatchObject({ useAwsSecrets: true, host: '0.0.0.0', port: 3000 });
    expect(loadServiceConfig(env).trustProxy).toBe(1);
    expect(Object.keys(env).filter((name) => SECRET_NAMES.has(name) || /(TOKEN|SECRET|PASSWORD|KEY|URL)$/.test(name))).toEqual([]);
    expect(unit.get('Service')!.get('EnvironmentFile')).toEqual(['/etc/whatsapp-saas/whatsapp-saas.env']);
  });

  it('gives the service time to drain on SIGTERM before systemd kills it', () => {
    const config = loadServiceConfig(environmentOf(unit));

    expect(lastValue(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    expect(Number(lastValue(unit, 'Service', 'TimeoutStopSec')) * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
  });

  it('tells how to install the EnvironmentFile root-owned with mode 0600', async () => {
    const readme = await readFile(join(REPO, 'deploy/README.md'), 'utf8');

    expect(readme).toContain('install -m 0600 -o root -g root /dev/null /etc/whatsapp-saas/whatsapp-saas.env');
  });

  it.skipIf(SYSTEMD_ANALYZE === undefined)('passes systemd-analyze verify with no warning', async () => {
    const { stdout, stderr } = await run(SYSTEMD_ANALYZE!, ['verify', UNIT]);

    expect(stdout).toBe('');
    expect(stderr).toBe('');
  });

  it.skipIf(SYSTEMD_ANALYZE === undefined)('rates an exposure of at most 2.0 in systemd-analyze security', async () => {
    const { stdout } = await run(SYSTEMD_ANALYZE!, ['security', '--offline=yes', '--threshold=20', '--no-pager', UNIT]);

    expect(Number(/Overall exposure level for \S+: (\d+\.\d+)/.exec(stdout)?.[1])).toBeLessThanOrEqual(2);
  });
});
