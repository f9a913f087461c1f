import { defineCatalog } from '../engine/catalog.js';
import { postgresConnection } from '../engine/postgres-connection.js';
import { decimal, integer, redisUrl, text, token } from '../engine/value-kinds.js';

const whenCompromised = { method: 'Manual', schedule: 'When compromised' } as const;

/**
 * Minimum strengths. Ours are generated at 48 random bytes (64 characters), so the floors only
 * refuse hand-typed or placeholder values: 32 characters for the admin token (it guards every
 * admin route), 16 for the verify token (Meta sends it once per subscription, and some people
 * type it into Meta's dashboard), 32 for the app secret, which Meta issues as 32 hex digits.
 */
export const MIN_ADMIN_TOKEN_LENGTH = 32;
export const MIN_META_VERIFY_TOKEN_LENGTH = 16;
export const MIN_META_APP_SECRET_LENGTH = 32;

/** The WhatsApp SaaS backend's secrets: the seed guide's Secret List and Rotation Schedule. */
export const whatsappSaasSpec = {
  ADMIN_TOKEN: {
    kind: token({ minLength: MIN_ADMIN_TOKEN_LENGTH }),
    required: true,
    description: 'Admin API authentication token',
    acceptsPrevious: true,
    rotation: { everyDays: 90, method: 'secrets rotate admin-token', schedule: '90 days' },
    generate: { bytes: 48 },
  },
  META_VERIFY_TOKEN: {
    kind: token({ minLength: MIN_META_VERIFY_TOKEN_LENGTH }),
    required: true,
    description: 'Meta webhook verification token',
    acceptsPrevious: true,
    rotation: whenCompromised,
    generate: { bytes: 48 },
  },
  META_APP_SECRET: {
    kind: token({ minLength: MIN_META_APP_SECRET_LENGTH }),
    required: true,
    description: 'Meta app secret for HMAC validation',
    acceptsPrevious: true,
    rotation: whenCompromised,
  },
  DATABASE_URL: {
    kind: postgresConnection(),
    required: true,
    description: 'PostgreSQL connection string',
    rotation: { method: '-', schedule: 'Never (use RDS rotation)' },
  },
  REDIS_URL: {
    kind: redisUrl(),
    required: true,
    description: 'Redis connection string',
    rotation: { method: '-', schedule: 'Never (redeploy ElastiCache)' },
  },
  OPENAI_API_KEY: { kind: text(), required: true, description: 'OpenAI API key', rotation: whenCompromised },
  WHATSAPP_PHONE_NUMBER_ID: { kind: text(), required: false, description: 'Default WhatsApp phone number ID' },
  WHATSAPP_ACCESS_TOKEN: {
    kind: text(),
    required: false,
    description: 'Default WhatsApp access token',
    rotation: { method: 'Manual', schedule: "Per Meta's requirements" },
  },
  OPENAI_MODEL: { kind: text(), required: false, default: 'gpt-4', description: 'OpenAI model to use' },
  OPENAI_MAX_TOKENS: { kind: integer({ min: 1 }), required: false, default: 1000, description: 'Max tokens per request' },
  OPENAI_TEMPERATURE: { kind: decimal({ min: 0, max: 2 }), required: false, default: 0.7, description: 'Temperature setting' },
} as const;

export type WhatsappSaasSpec = typeof whatsappSaasSpec;

export function whatsappSaasCatalog(options: { project?: string; environment?: string } = {}) {
  return defineCatalog(whatsappSaasSpec, options);
}
