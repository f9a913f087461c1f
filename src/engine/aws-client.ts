import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { StandardRetryStrategy } from '@smithy/core/retry';

type Refresh = StandardRetryStrategy['refreshRetryTokenForRetry'];

/**
 * The SDK's standard retries (exponential backoff with jitter, a retry quota), except for a
 * throttled call: the SDK would retry it within a second on every instance that was throttled
 * together, adding to the load that throttled them. It goes back to the engine instead, whose
 * retries are spread over the fleet (start-up's share of the deadline, the notices' budget).
 */
export class NoThrottlingRetryStrategy extends StandardRetryStrategy {
  override refreshRetryTokenForRetry(token: Parameters<Refresh>[0], errorInfo: Parameters<Refresh>[1]): ReturnType<Refresh> {
    if (errorInfo.errorType === 'THROTTLING') return Promise.reject(new Error('Throttled: not retried by the SDK'));
    return super.refreshRetryTokenForRetry(token, errorInfo);
  }
}

export interface AwsClientOptions {
  readonly region: string;
  /** Overrides the SDK's own endpoint resolution (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL). */
  readonly endpoint?: string;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxAttempts?: number;
  /**
   * false: a throttled call is not retried by the SDK but returned at once, for a caller whose own
   * retries are spread over the fleet (the engine in the service). True by default (the rotation
   * function, the CLI).
   */
  readonly retryThrottled?: boolean;
  /** Explicit credentials (tests against the local endpoint); otherwise the SDK's own chain. */
  readonly credentials?: SecretsManagerClientConfig['credentials'];
}

/**
 * The Secrets Manager client for composition roots (service and CLI entries), with every call
 * bounded: the SDK has no request timeout by default, so a store that accepts connections and
 * never answers would otherwise hold a refresh forever. Credentials come from the SDK's own chain.
 */
export function createSecretsManagerClient(options: AwsClientOptions): SecretsManagerClient {
  const { region, endpoint, credentials, connectionTimeoutMs = 2_000, requestTimeoutMs = 3_000, maxAttempts = 2, retryThrottled = true } = options;
  return new SecretsManagerClient({
    region,
    ...(retryThrottled ? { maxAttempts } : { retryStrategy: new NoThrottlingRetryStrategy(maxAttempts) }),
    ...(endpoint !== undefined && { endpoint }),
    ...(credentials !== undefined && { credentials }),
    requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  });
}
