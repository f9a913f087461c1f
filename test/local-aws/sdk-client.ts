import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

/**
 * The real AWS SDK client pointed at a local endpoint, with dummy credentials. One attempt by
 * default so an injected error reaches the test at once instead of after the SDK's retries.
 */
export function secretsManagerClient(url: string, overrides: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    ...overrides,
  });
}
