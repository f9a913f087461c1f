import { describe, expect, it } from 'vitest';
import { MissingSecretsError, SourceError } from '../../src/engine/index.js';
import { listenFailure, secretsStartupFailure, type StartupContext } from '../../src/service/startup-failure.js';

const local: StartupContext = { useAwsSecrets: false, endpoint: undefined, region: 'us-east-1', envFile: '/app/.env', prefix: 'whatsapp-saas/mvp' };
const aws: StartupContext = { ...local, useAwsSecrets: true, endpoint: 'http://127.0.0.1:4566', region: 'eu-west-3' };

describe('secretsStartupFailure', () => {
  it('names the endpoint and region when Secrets Manager cannot be reached', () => {
    const line = secretsStartupFailure(new SourceError('ECONNREFUSED', true), aws);

    expect(line).toBe(
      'Secrets initialization failed: cannot reach Secrets Manager at http://127.0.0.1:4566, region eu-west-3 (ECONNREFUSED); check AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION and the network.',
    );
  });

  it('names the AWS endpoint of the region when none is configured', () => {
    expect(secretsStartupFailure(new SourceError('TimeoutError', true), { ...aws, endpoint: undefined })).toContain('cannot reach Secrets Manager at the AWS endpoint of eu-west-3, region eu-west-3 (TimeoutError)');
  });

  it('says where to set missing secrets', () => {
    const err = new MissingSecretsError([{ name: 'ADMIN_TOKEN', reason: 'missing' }]);

    expect(secretsStartupFailure(err, local)).toMatch(/ADMIN_TOKEN.*Set them in \/app\/.env\.$/);
    expect(secretsStartupFailure(err, aws)).toMatch(/Set them in AWS Secrets Manager \(whatsapp-saas\/mvp\/\.\.\., region eu-west-3\)\.$/);
  });
});

describe('listenFailure', () => {
  it('suggests PORT when the port is in use', () => {
    expect(listenFailure('EADDRINUSE', '127.0.0.1', 3000)).toBe('Cannot listen on 127.0.0.1:3000: EADDRINUSE (port 3000 is in use: stop what runs there, or set PORT to a free port (e.g. PORT=3001))');
  });

  it('suggests HOST when the address is not this machine', () => {
    expect(listenFailure('EADDRNOTAVAIL', '203.0.113.9', 3000)).toContain('set HOST');
  });
});
