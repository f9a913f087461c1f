export type { Catalog, CatalogEntry, CatalogSpec, SecretName, SecretSpec, SecretValue } from './catalog.js';
export { awsIdIndex, defineCatalog, kebab } from './catalog.js';
export type { Parsed, ValueKind } from './value-kinds.js';
export { decimal, integer, postgresUrl, redisUrl, text, token, url } from './value-kinds.js';
export type { PostgresConnection } from './postgres-connection.js';
export { parsePostgresConnection, postgresConnection } from './postgres-connection.js';
export type { Clock, TimerHandle, TimerOptions } from './clock.js';
export { systemClock } from './clock.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { BackoffPolicy } from './backoff.js';
export { backoffDelayMs, defaultBackoff, jitteredRefreshDelayMs, startupBackoff } from './backoff.js';
export type { DeadlineOptions } from './deadline.js';
export { DeadlineExceededError, withDeadline } from './deadline.js';
export { MissingSecretsError, SecretsError, SourceError } from './errors.js';
export type { SecretProblem, SecretsErrorCode } from './errors.js';
export type { LoadResult, SecretFailure, SecretRecord, SecretSource } from './source.js';
export { CURRENT_STAGE, IMMEDIATE_ROTATION_STAGE, PREVIOUS_STAGE, SWITCH_STAGE_PREFIX, switchedAtMs, switchStage } from './source.js';
export { createEnvSource, MAX_ENV_FILE_BYTES } from './env-source.js';
export type { EnvSourceOptions } from './env-source.js';
export { BATCH_SIZE, createAwsSource, DEFAULT_BATCH_RETRY_MS, DEFAULT_REGION_TIMEOUT_MS } from './aws-source.js';
export type { AwsCall, AwsOperation, AwsRegionClient, AwsSourceOptions } from './aws-source.js';
export { parseReplicaRegions, REGION_NAME } from './region-list.js';
export { createSecretsManagerClient } from './aws-client.js';
export type { AwsClientOptions } from './aws-client.js';
export { classifyAwsError, errorCode } from './aws-error.js';
export { driverErrorCode } from './driver-error.js';
export type { ClassifiedError } from './aws-error.js';
export type { EngineStatus, LastAnyRefresh, SecretStatus } from './status.js';
export type { ChangedSecret, RefreshOutcome, RefreshReason } from './refresh-outcome.js';
export {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_TTL_MS,
  MIN_TTL_MS,
  MAX_TTL_MS,
} from './engine-options.js';
export type { SecretsEngineOptions } from './engine-options.js';
export { createSecretsEngine, SecretsEngine } from './secrets-engine.js';
export type { RefreshOptions } from './secrets-engine.js';
export type { NoticeNames, NoticeProblem, ParsedNotice, RefreshNotice } from './refresh-notice.js';
export { MAX_NOTICE_BYTES, parseRefreshNotice, REFRESH_CHANNEL, refreshChannel, refreshNoticeMessage } from './refresh-notice.js';
export { ROTATION_DUE_WITHIN_DAYS, rotationDue } from './rotation-due.js';
export type { RotationView } from './rotation-due.js';
