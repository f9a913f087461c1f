import { randomInt, randomUUID } from 'node:crypto';
import { AwsServiceError, INTERNAL_ERROR_MESSAGE, validationError } from './errors.js';
import type { Faults } from './faults.js';
import { matchesFilters } from './filters.js';
import { LOCAL_CALLER_ARN } from './local-identity.js';
import { decodePageToken, paginate } from './page-token.js';
import { RequestFields } from './request-fields.js';
import type { RotationFunctions } from './rotation-functions.js';
import type { RotationRunner } from './rotation-runner.js';
import { nextRotationMs, readRotationRules, rotationRulesJson } from './rotation-schedule.js';
import { AWSCURRENT, AWSPENDING, rotationInProgressError, type SecretPayload, type SecretRecord, type SecretStore, type SecretVersion } from './store.js';

/**
 * The Secrets Manager operations the local endpoint answers, as JSON 1.1 handlers: request body
 * in, response body out, AwsServiceError for an AWS error. Field names, limits and error types
 * follow the API reference (botocore's `secretsmanager/2017-10-17/service-2.json`).
 */

export const OPERATION_NAMES = [
  'CreateSecret',
  'GetSecretValue',
  'BatchGetSecretValue',
  'PutSecretValue',
  'UpdateSecretVersionStage',
  'DescribeSecret',
  'ListSecrets',
  'ListSecretVersionIds',
  'TagResource',
  'UntagResource',
  'DeleteSecret',
  'RestoreSecret',
  'RotateSecret',
  'CancelRotateSecret',
  'GetRandomPassword',
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

export interface OperationContext {
  readonly store: SecretStore;
  readonly faults: Readonly<Faults>;
  readonly region: string;
  readonly now: () => number;
  readonly rotations: RotationRunner;
  readonly rotationFunctions: RotationFunctions;
}

type JsonObject = Record<string, unknown>;
type Handler = (fields: RequestFields, context: OperationContext, body: Readonly<Record<string, unknown>>) => JsonObject;

export function isOperationName(name: string): name is OperationName {
  return (OPERATION_NAMES as readonly string[]).includes(name);
}

export function runOperation(name: OperationName, body: Readonly<Record<string, unknown>>, context: OperationContext): JsonObject {
  return HANDLERS[name](new RequestFields(body), context, body);
}

// Limits from the service model.
const SECRET_ID = { required: true, min: 1, max: 2048 } as const;
const VERSION_ID = { min: 32, max: 64 } as const;
const VERSION_STAGE = { min: 1, max: 256 } as const;
const SECRET_VALUE_MAX_BYTES = 65_536;
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;
const DEFAULT_RECOVERY_WINDOW_DAYS = 30;
const BATCH_MAX_RESULTS = 20;
const LIST_MAX_RESULTS = 100;
const SORT_BY = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const;
const SORT_ORDER = ['asc', 'desc'] as const;
/** GetRandomPassword's punctuation set, as the API reference lists it. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const HANDLERS: Readonly<Record<OperationName, Handler>> = {
  CreateSecret(fields, { store }) {
    const name = fields.string('Name', { required: true, min: 1, max: 512 });
    if (!SECRET_NAME_PATTERN.test(name)) {
      throw new AwsServiceError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const versionId = fields.string('ClientRequestToken', VERSION_ID) ?? randomUUID();
    const description = fields.string('Description', { max: 2048 });
    const payload = readPayload(fields);
    const tags = fields.tags('Tags') ?? [];
    const { secret, version } = store.create({
      name,
      tags,
      versionId,
      ...(description === undefined ? {} : { description }),
      ...(payload === undefined ? {} : { payload }),
    });
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  },

  GetSecretValue(fields, context) {
    const secretId = fields.string('SecretId', SECRET_ID);
    const versionId = fields.string('VersionId', VERSION_ID);
    const versionStage = fields.string('VersionStage', VERSION_STAGE);
    assertSecretAllowed(context, 'GetSecretValue', secretId);
    const secret = context.store.getActive(secretId);
    const version = context.store.readVersion(secret, {
      ...(versionId === undefined ? {} : { versionId }),
      ...(versionStage === undefined ? {} : { versionStage }),
    });
    return secretValueEntry(secret, version);
  },

  BatchGetSecretValue(fields, context) {
    const secretIds = fields.stringList('SecretIdList', { min: 1, max: 20, item: { min: 1, max: 2048 } });
    const filters = fields.filters('Filters');
    const maxResults = fields.integer('MaxResults', { min: 1, max: BATCH_MAX_RESULTS });
    const nextToken = fields.string('NextToken', { min: 1, max: 4096 });
    if (secretIds && filters) {
      throw new AwsServiceError('InvalidParameterException', 'Either SecretIdList or Filters must be specified, but not both.');
    }
    if (!secretIds && !filters) {
      throw new AwsServiceError('InvalidParameterException', 'Either SecretIdList or Filters must be specified.');
    }
    if (secretIds && maxResults !== undefined) {
      throw new AwsServiceError('InvalidParameterException', 'MaxResults can be used only with Filters.');
    }
    const secretValues: JsonObject[] = [];
    const errors: JsonObject[] = [];
    const collect = (secretId: string): void => {
      try {
        secretValues.push(batchEntry(context, secretId));
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        errors.push({ SecretId: secretId, ErrorCode: error.code, Message: error.message });
      }
    };
    if (secretIds) {
      secretIds.forEach(collect);
      return { SecretValues: secretValues, Errors: errors };
    }
    // Filters select like ListSecrets (scheduled deletions excluded); errors then name the ARN.
    const matching = context.store
      .all()
      .filter((secret) => secret.deletedMs === undefined && matchesFilters(secret, filters ?? [], context.region));
    const offset = decodePageToken('BatchGetSecretValue', nextToken);
    const { page, nextToken: next } = paginate('BatchGetSecretValue', matching, offset, maxResults ?? BATCH_MAX_RESULTS);
    for (const secret of page) collect(secret.arn);
    return { SecretValues: secretValues, Errors: errors, ...(next ? { NextToken: next } : {}) };
  },

  PutSecretValue(fields, context) {
    const secretId = fields.string('SecretId', SECRET_ID);
    const versionId = fields.string('ClientRequestToken', VERSION_ID) ?? randomUUID();
    const stages = fields.stringList('VersionStages', { min: 1, max: 20, item: VERSION_STAGE });
    const payload = readPayload(fields);
    if (payload === undefined) {
      throw new AwsServiceError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    }
    assertSecretAllowed(context, 'PutSecretValue', secretId);
    const secret = context.store.getActive(secretId);
    const version = context.store.putValue(secret, { versionId, payload, ...(stages ? { stages } : {}) });
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      VersionStages: [...version.stages],
    };
  },

  UpdateSecretVersionStage(fields, { store, faults }) {
    const secretId = fields.string('SecretId', SECRET_ID);
    const stage = fields.string('VersionStage', { ...VERSION_STAGE, required: true });
    if (faults.denyStageMoves.includes(stage)) {
      throw new AwsServiceError(
        'AccessDeniedException',
        `User: ${LOCAL_CALLER_ARN} is not authorized to perform: secretsmanager:UpdateSecretVersionStage because no identity-based policy allows the secretsmanager:UpdateSecretVersionStage action`,
      );
    }
    const moveToVersionId = fields.string('MoveToVersionId', VERSION_ID);
    const removeFromVersionId = fields.string('RemoveFromVersionId', VERSION_ID);
    const secret = store.getActive(secretId);
    store.updateVersionStage(secret, {
      stage,
      ...(moveToVersionId === undefined ? {} : { moveToVersionId }),
      ...(removeFromVersionId === undefined ? {} : { removeFromVersionId }),
    });
    return { ARN: secret.arn, Name: secret.name };
  },

  DescribeSecret(fields, { store }) {
    const secret = store.get(fields.string('SecretId', SECRET_ID));
    return describe(secret, 'VersionIdsToStages');
  },

  ListSecrets(fields, { store, region }) {
    const includePlannedDeletion = fields.boolean('IncludePlannedDeletion') ?? false;
    const maxResults = fields.integer('MaxResults', { min: 1, max: LIST_MAX_RESULTS }) ?? LIST_MAX_RESULTS;
    const nextToken = fields.string('NextToken', { min: 1, max: 4096 });
    const filters = fields.filters('Filters') ?? [];
    const sortBy = readEnum(fields, 'SortBy', SORT_BY) ?? 'created-date';
    const sortOrder = readEnum(fields, 'SortOrder', SORT_ORDER) ?? 'asc';
    const secrets = store
      .all()
      .filter((secret) => includePlannedDeletion || secret.deletedMs === undefined)
      .filter((secret) => matchesFilters(secret, filters, region))
      .sort(compareSecrets(sortBy, sortOrder));
    const offset = decodePageToken('ListSecrets', nextToken);
    const { page, nextToken: next } = paginate('ListSecrets', secrets, offset, maxResults);
    return {
      SecretList: page.map((secret) => describe(secret, 'SecretVersionsToStages')),
      ...(next ? { NextToken: next } : {}),
    };
  },

  ListSecretVersionIds(fields, { store }) {
    const secret = store.get(fields.string('SecretId', SECRET_ID));
    const maxResults = fields.integer('MaxResults', { min: 1, max: LIST_MAX_RESULTS }) ?? LIST_MAX_RESULTS;
    const nextToken = fields.string('NextToken', { min: 1, max: 4096 });
    const includeDeprecated = fields.boolean('IncludeDeprecated') ?? false;
    // Newest first: the order an operator reads a version history in.
    const versions = [...secret.versions.values()]
      .filter((version) => includeDeprecated || version.stages.size > 0)
      .reverse();
    const offset = decodePageToken('ListSecretVersionIds', nextToken);
    const { page, nextToken: next } = paginate('ListSecretVersionIds', versions, offset, maxResults);
    return {
      Versions: page.map((version) => ({
        VersionId: version.versionId,
        ...(version.stages.size > 0 ? { VersionStages: [...version.stages] } : {}),
        ...(version.lastAccessedMs === undefined ? {} : { LastAccessedDate: epochSeconds(version.lastAccessedMs) }),
        CreatedDate: epochSeconds(version.createdMs),
      })),
      ...(next ? { NextToken: next } : {}),
      ARN: secret.arn,
      Name: secret.name,
    };
  },

  TagResource(fields, { store }) {
    const secretId = fields.string('SecretId', SECRET_ID);
    const tags = fields.tags('Tags', { required: true }) ?? [];
    store.tag(store.getActive(secretId), tags);
    return {};
  },

  UntagResource(fields, { store }) {
    const secretId = fields.string('SecretId', SECRET_ID);
    const keys = fields.stringList('TagKeys', { required: true, item: { min: 1, max: 128 } });
    store.untag(store.getActive(secretId), keys);
    return {};
  },

  DeleteSecret(fields, { store, now }) {
    const secretId = fields.string('SecretId', SECRET_ID);
    const recoveryWindowDays = fields.integer('RecoveryWindowInDays');
    const force = fields.boolean('ForceDeleteWithoutRecovery') ?? false;
    if (force && recoveryWindowDays !== undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (recoveryWindowDays !== undefined && (recoveryWindowDays < 7 || recoveryWindowDays > 30)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const secret = store.find(secretId);
    if (!secret) {
      // "If you forcibly delete an already deleted or nonexistent secret, the operation does not
      // return ResourceNotFoundException."
      if (!force) return notFound();
      const arn = secretId.startsWith('arn:') ? secretId : store.partialArn(secretId);
      return { ARN: arn, Name: arn.slice(arn.indexOf(':secret:') + ':secret:'.length), DeletionDate: epochSeconds(now()) };
    }
    const deletionMs = force ? store.forceDelete(secret) : store.scheduleDeletion(secret, recoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(deletionMs) };
  },

  RestoreSecret(fields, { store }) {
    const secret = store.get(fields.string('SecretId', SECRET_ID));
    store.restore(secret);
    return { ARN: secret.arn, Name: secret.name };
  },

  RotateSecret(fields, context, body) {
    const { store, rotations, rotationFunctions, now } = context;
    const secretId = fields.string('SecretId', SECRET_ID);
    const token = fields.string('ClientRequestToken', VERSION_ID) ?? randomUUID();
    const lambdaArnField = fields.string('RotationLambdaARN', { max: 2048 });
    const rules = readRotationRules(body.RotationRules);
    const immediately = fields.boolean('RotateImmediately') ?? true;
    const secret = store.getActive(secretId);
    const running = rotations.runningFor(secret);
    // A retry of the same request (same ClientRequestToken) while its rotation runs: same answer.
    if (running?.token === token) return { ARN: secret.arn, Name: secret.name, VersionId: token };
    const lambdaArn = lambdaArnField || secret.rotation?.lambdaArn;
    if (lambdaArn === undefined || lambdaArn === '') {
      throw new AwsServiceError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    }
    if (!rotationFunctions.has(lambdaArn)) {
      throw new AwsServiceError(
        'AccessDeniedException',
        'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
      );
    }
    if (running !== undefined) throw rotationInProgressError();
    store.createPendingVersion(secret, token);
    const previous = secret.rotation;
    const effectiveRules = rules ?? previous?.rules;
    const lastRotatedMs = previous?.lastRotatedMs;
    const next = effectiveRules === undefined ? undefined : nextRotationMs(effectiveRules, lastRotatedMs ?? now());
    secret.rotation = {
      enabled: true,
      lambdaArn,
      ...(effectiveRules === undefined ? {} : { rules: effectiveRules }),
      ...(lastRotatedMs === undefined ? {} : { lastRotatedMs }),
      ...(next === undefined ? {} : { nextRotationMs: next }),
    };
    secret.lastChangedMs = now();
    rotations.launch(secret, token, lambdaArn, immediately ? 'rotation' : 'test');
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  },

  CancelRotateSecret(fields, { store, rotations, now }) {
    const secret = store.getActive(fields.string('SecretId', SECRET_ID));
    const rotation = secret.rotation;
    if (rotation === undefined || !rotation.enabled) {
      throw new AwsServiceError('InvalidRequestException', "You can't cancel rotation because rotation isn't enabled for this secret.");
    }
    rotation.enabled = false;
    delete rotation.nextRotationMs;
    secret.lastChangedMs = now();
    // The version a rotation was creating: the caller decides what to do with its AWSPENDING.
    const cancelled = rotations.cancel(secret);
    const pending = [...secret.versions.values()].find((v) => v.stages.has(AWSPENDING) && !v.stages.has(AWSCURRENT));
    const versionId = cancelled ?? pending?.versionId;
    return { ARN: secret.arn, Name: secret.name, ...(versionId === undefined ? {} : { VersionId: versionId }) };
  },

  GetRandomPassword(fields) {
    const length = fields.integer('PasswordLength', { min: 1, max: 4096 }) ?? 32;
    const exclude = fields.string('ExcludeCharacters', { max: 4096 }) ?? '';
    const include = (flag: string, set: string) => (fields.boolean(flag) ? '' : set);
    const sets = [
      include('ExcludeLowercase', 'abcdefghijklmnopqrstuvwxyz'),
      include('ExcludeUppercase', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
      include('ExcludeNumbers', '0123456789'),
      include('ExcludePunctuation', PUNCTUATION),
      fields.boolean('IncludeSpace') ? ' ' : '',
    ]
      .map((set) => [...set].filter((c) => !exclude.includes(c)).join(''))
      .filter((set) => set.length > 0);
    const requireEach = fields.boolean('RequireEachIncludedType') ?? true;
    if (sets.length === 0 || (requireEach && sets.length > length)) {
      throw new AwsServiceError('InvalidParameterException', 'The password length is too short to include every required character type.');
    }
    const all = sets.join('');
    const chars = Array.from({ length }, () => all[randomInt(all.length)]!);
    if (requireEach) {
      // One character of each included type, each at its own random place.
      const places = [...chars.keys()];
      for (let i = places.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [places[i], places[j]] = [places[j]!, places[i]!];
      }
      sets.forEach((set, i) => (chars[places[i]!] = set[randomInt(set.length)]!));
    }
    return { RandomPassword: chars.join('') };
  },
};

/** SecretString or SecretBinary (base64 on the wire), never both; undefined when neither. */
function readPayload(fields: RequestFields): SecretPayload | undefined {
  const secretString = fields.string('SecretString', { min: 1, maxBytes: SECRET_VALUE_MAX_BYTES });
  const secretBinary = fields.string('SecretBinary', { min: 1 });
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new AwsServiceError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString !== undefined) return { secretString };
  if (secretBinary === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(secretBinary) || secretBinary.length % 4 !== 0) {
    throw new AwsServiceError('SerializationException', 'SecretBinary must be base64-encoded.');
  }
  const bytes = Buffer.from(secretBinary, 'base64');
  if (bytes.length === 0) throw validationError('SecretBinary', 'Member must have length greater than or equal to 1');
  if (bytes.length > SECRET_VALUE_MAX_BYTES) {
    throw validationError('SecretBinary', `Member must have length less than or equal to ${SECRET_VALUE_MAX_BYTES}`);
  }
  return { secretBinary: bytes.toString('base64') };
}

function readEnum<T extends string>(fields: RequestFields, field: string, allowed: readonly T[]): T | undefined {
  const value = fields.string(field);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw validationError(field, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value as T;
}

/** A name the `denySecrets` fault covers answers AccessDeniedException, as IAM would. */
function assertSecretAllowed(context: OperationContext, operation: string, secretId: string): void {
  const denied = context.faults.denySecrets;
  if (denied.length === 0) return;
  const secret = context.store.find(secretId);
  if (denied.includes(secretId) || (secret !== undefined && (denied.includes(secret.name) || denied.includes(secret.arn)))) {
    const resource = secret?.arn ?? secretId;
    throw new AwsServiceError(
      'AccessDeniedException',
      `User: ${LOCAL_CALLER_ARN} is not authorized to perform: secretsmanager:${operation} on resource: ${resource} because no identity-based policy allows the secretsmanager:${operation} action`,
    );
  }
}

function batchEntry(context: OperationContext, secretId: string): JsonObject {
  assertSecretAllowed(context, 'GetSecretValue', secretId);
  const secret = context.store.getActive(secretId);
  if (context.faults.failInBatch.includes(secret.name) || context.faults.failInBatch.includes(secretId)) {
    throw new AwsServiceError('InternalServiceError', INTERNAL_ERROR_MESSAGE);
  }
  return secretValueEntry(secret, context.store.readVersion(secret, {}));
}

function secretValueEntry(secret: SecretRecord, version: SecretVersion): JsonObject {
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.payload.secretString === undefined ? {} : { SecretString: version.payload.secretString }),
    ...(version.payload.secretBinary === undefined ? {} : { SecretBinary: version.payload.secretBinary }),
    ...(version.stages.size > 0 ? { VersionStages: [...version.stages] } : {}),
    CreatedDate: epochSeconds(version.createdMs),
  };
}

/** DescribeSecret's shape, or a ListSecrets entry (which names the stages map differently). */
function describe(secret: SecretRecord, stagesField: 'VersionIdsToStages' | 'SecretVersionsToStages'): JsonObject {
  const stages: Record<string, string[]> = {};
  for (const version of secret.versions.values()) {
    if (version.stages.size > 0) stages[version.versionId] = [...version.stages];
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description === undefined ? {} : { Description: secret.description }),
    LastChangedDate: epochSeconds(secret.lastChangedMs),
    ...(secret.lastAccessedMs === undefined ? {} : { LastAccessedDate: epochSeconds(secret.lastAccessedMs) }),
    ...(secret.deletedMs === undefined ? {} : { DeletedDate: epochSeconds(secret.deletedMs) }),
    ...(secret.tags.size > 0 ? { Tags: [...secret.tags].map(([Key, Value]) => ({ Key, Value })) } : {}),
    ...rotationFields(secret),
    [stagesField]: stages,
    CreatedDate: epochSeconds(secret.createdMs),
  };
}

function compareSecrets(
  sortBy: (typeof SORT_BY)[number],
  sortOrder: (typeof SORT_ORDER)[number],
): (a: SecretRecord, b: SecretRecord) => number {
  const direction = sortOrder === 'asc' ? 1 : -1;
  return (a, b) => {
    switch (sortBy) {
      case 'name':
        return direction * (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      case 'last-accessed-date':
        return direction * ((a.lastAccessedMs ?? 0) - (b.lastAccessedMs ?? 0));
      case 'last-changed-date':
        return direction * (a.lastChangedMs - b.lastChangedMs);
      case 'created-date':
        return direction * (a.createdMs - b.createdMs);
    }
  };
}

function notFound(): never {
  throw new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
}

/** JSON 1.1 timestamps are epoch seconds (fractional). */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** DescribeSecret's and ListSecrets' rotation members; NextRotationDate only while rotation is on. */
function rotationFields(secret: SecretRecord): JsonObject {
  const rotation = secret.rotation;
  if (rotation === undefined) return { RotationEnabled: false };
  return {
    RotationEnabled: rotation.enabled,
    RotationLambdaARN: rotation.lambdaArn,
    ...(rotation.rules === undefined ? {} : { RotationRules: rotationRulesJson(rotation.rules) }),
    ...(rotation.lastRotatedMs === undefined ? {} : { LastRotatedDate: epochSeconds(rotation.lastRotatedMs) }),
    ...(rotation.enabled && rotation.nextRotationMs !== undefined ? { NextRotationDate: epochSeconds(rotation.nextRotationMs) } : {}),
  };
}
