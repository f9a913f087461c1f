/** Everything the health endpoints and the CLI show about the engine. Never a value. */
export interface SecretStatus {
  readonly loaded: boolean;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly usingDefault: boolean;
  readonly versionId: string | null;
  readonly lastChanged: string | null;
  readonly lastErrorCode: string | null;
  readonly previousAccepted: boolean;
  readonly reads: number;
}

export interface EngineStatus {
  readonly initialized: boolean;
  readonly source: 'env' | 'aws';
  readonly sourceDescription: string;
  readonly region: string | null;
  readonly secretsLoaded: number;
  readonly totalSecrets: number;
  readonly requiredSecretsOk: boolean;
  readonly cacheAgeMs: number | null;
  readonly cacheExpired: boolean;
  readonly ttlMs: number;
  readonly lastRefresh: string | null;
  readonly lastAttempt: string | null;
  readonly nextRefresh: string | null;
  readonly lastErrorCode: string | null;
  readonly consecutiveFailures: number;
  readonly refreshing: boolean;
  readonly secrets: Readonly<Record<string, SecretStatus>>;
}
