export type { Catalog, CatalogEntry, CatalogSpec, SecretName, SecretSpec, SecretValue } from './catalog.js';
export { defineCatalog, kebab } from './catalog.js';
export type { Parsed, ValueKind } from './value-kinds.js';
export { decimal, integer, postgresUrl, redisUrl, text, token, url } from './value-kinds.js';
export type { PostgresConnection } from './postgres-connection.js';
export { parsePostgresConnection, postgresConnection } from './postgres-connection.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { BackoffPolicy } from './backoff.js';
export { defaultBackoff } from './backoff.js';
export { MissingSecretsError, SecretsError, SourceError } from './errors.js';
export type { SecretProblem, SecretsErrorCode } from './errors.js';
export type { LoadResult, SecretFailure, SecretRecord, SecretSource } from './source.js';
export { IMMEDIATE_ROTATION_STAGE } from './source.js';
export { createEnvSource, MAX_ENV_FILE_BYTES } from './env-source.js';
export type { EnvSourceOptions } from './env-source.js';
export { BATCH_SIZE, createAwsSource } from './aws-source.js';
export type { AwsSourceOptions } from './aws-source.js';
export { createSecretsManagerClient } from './aws-client.js';
export type { AwsClientOptions } from './aws-client.js';
export { classifyAwsError } from './aws-error.js';
export type { EngineStatus, SecretStatus } from './status.js';
export {
  createSecretsEngine,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_TTL_MS,
  SecretsEngine,
} from './secrets-engine.js';
export type { ChangedSecret, RefreshOutcome, RefreshReason, SecretsEngineOptions } from './secrets-engine.js';
