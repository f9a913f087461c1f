import { Redis } from 'ioredis';
import pg from 'pg';
import type { CredentialClients } from './credential-clients.js';

/** Every wait of a rotation's connection is bounded: a step never hangs on a silent server. */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 10_000;

/**
 * The real PostgreSQL and Redis clients of the credential rotations: one short-lived connection
 * per use, nothing retried behind the step's back, every wait bounded. Called only by composition
 * roots (the CLI's bin, the rotation function's handler, tests and benchmarks).
 */
export function createCredentialClients(): CredentialClients {
  return {
    sql: (url) => {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: STATEMENT_TIMEOUT_MS,
        statement_timeout: STATEMENT_TIMEOUT_MS,
        application_name: 'secrets-rotation',
      });
      // A connection lost between statements is reported by the next query; unhandled, it would end the process.
      client.on('error', () => {});
      return client;
    },
    redis: (url) => {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: STATEMENT_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      return client;
    },
  };
}
