import { describe, expect, it } from 'vitest';
import { isLoopbackEndpoint, LOCAL_ENDPOINT_CREDENTIALS, localEndpointCredentials } from '../../src/cli/local-credentials.js';

describe('isLoopbackEndpoint', () => {
  it('knows the loopback addresses and nothing else', () => {
    for (const url of ['http://127.0.0.1:4566', 'http://localhost:4566', 'http://[::1]:4566', 'http://127.1.2.3']) expect(isLoopbackEndpoint(url)).toBe(true);
    for (const url of ['https://secretsmanager.us-east-1.amazonaws.com', 'http://127.0.0.1.example.com', 'http://10.0.0.1', 'not a url', undefined]) {
      expect(isLoopbackEndpoint(url)).toBe(false);
    }
  });
});

describe('localEndpointCredentials', () => {
  const local = { region: 'us-east-1', endpoint: 'http://127.0.0.1:4566' };

  it('hands the local endpoint placeholder credentials when none are configured', () => {
    expect(localEndpointCredentials(local, {})).toEqual(LOCAL_ENDPOINT_CREDENTIALS);
  });

  it('leaves configured credentials to the SDK chain', () => {
    expect(localEndpointCredentials(local, { AWS_ACCESS_KEY_ID: 'AKIA' })).toBeUndefined();
    expect(localEndpointCredentials(local, { AWS_PROFILE: 'dev' })).toBeUndefined();
    expect(localEndpointCredentials({ ...local, profile: 'dev' }, {})).toBeUndefined();
  });

  it('never applies to AWS itself', () => {
    expect(localEndpointCredentials({ region: 'us-east-1' }, {})).toBeUndefined();
    expect(localEndpointCredentials({ region: 'us-east-1', endpoint: 'https://secretsmanager.us-east-1.amazonaws.com' }, {})).toBeUndefined();
  });
});
