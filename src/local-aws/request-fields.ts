import { AwsServiceError, validationError } from './errors.js';

/**
 * Typed reads of a JSON 1.1 request body, checked against the service model's constraints
 * (botocore `secretsmanager/2017-10-17/service-2.json`). A wrong JSON type is a
 * SerializationException, a broken constraint a ValidationException, as AWS's front end answers.
 * Messages name the field and the constraint, never the value.
 */

export interface StringConstraints {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Limit in UTF-8 bytes rather than characters (SecretString: 65,536 bytes). */
  readonly maxBytes?: number;
  readonly pattern?: RegExp;
}

export interface ListConstraints {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly item?: StringConstraints;
}

export interface IntegerConstraints {
  readonly min?: number;
  readonly max?: number;
}

export interface FilterInput {
  readonly key: FilterKey;
  readonly values: readonly string[];
}

export const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

const FILTER_VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

export class RequestFields {
  constructor(private readonly body: Readonly<Record<string, unknown>>) {}

  string(field: string, constraints: StringConstraints & { required: true }): string;
  string(field: string, constraints?: StringConstraints): string | undefined;
  string(field: string, constraints: StringConstraints = {}): string | undefined {
    return checkString(field, this.body[field], constraints);
  }

  /** The field as sent, for structures the typed readers do not cover. */
  raw(field: string): unknown {
    return this.body[field];
  }

  boolean(field: string): boolean | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw wrongType(field);
    return value;
  }

  integer(field: string, constraints: IntegerConstraints = {}): number | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(field);
    if (constraints.min !== undefined && value < constraints.min) {
      throw validationError(field, `Member must have value greater than or equal to ${constraints.min}`);
    }
    if (constraints.max !== undefined && value > constraints.max) {
      throw validationError(field, `Member must have value less than or equal to ${constraints.max}`);
    }
    return value;
  }

  stringList(field: string, constraints: ListConstraints & { required: true }): string[];
  stringList(field: string, constraints?: ListConstraints): string[] | undefined;
  stringList(field: string, constraints: ListConstraints = {}): string[] | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) {
      if (constraints.required) throw missing(field);
      return undefined;
    }
    if (!Array.isArray(value)) throw wrongType(field);
    checkListLength(field, value.length, constraints);
    return value.map((item, index) => checkString(`${field}.${index + 1}.member`, item, { ...constraints.item, required: true }));
  }

  /** A TagListType: `[{ Key, Value }]`. */
  tags(field: string, options: { required?: boolean } = {}): Array<[string, string]> | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) {
      if (options.required) throw missing(field);
      return undefined;
    }
    if (!Array.isArray(value)) throw wrongType(field);
    return value.map((item: unknown, index) => {
      const path = `${field}.${index + 1}.member`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw wrongType(path);
      const tag = item as Record<string, unknown>;
      const key = checkString(`${path}.key`, tag.Key, { required: true, min: 1, max: 128 });
      const tagValue = checkString(`${path}.value`, tag.Value, { max: 256 }) ?? '';
      if (key.toLowerCase().startsWith('aws:')) {
        throw new AwsServiceError('InvalidParameterException', 'Tag keys beginning with aws: are reserved for AWS use.');
      }
      return [key, tagValue];
    });
  }

  /** A FiltersListType: `[{ Key, Values }]`, at most 10 filters of at most 10 values. */
  filters(field: string): FilterInput[] | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw wrongType(field);
    checkListLength(field, value.length, { max: 10 });
    return value.map((item: unknown, index) => {
      const path = `${field}.${index + 1}.member`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw wrongType(path);
      const filter = item as Record<string, unknown>;
      const key = checkString(`${path}.key`, filter.Key, { required: true });
      if (!(FILTER_KEYS as readonly string[]).includes(key)) {
        throw validationError(`${path}.key`, `Member must satisfy enum value set: [${FILTER_KEYS.join(', ')}]`);
      }
      const values = filter.Values;
      if (values === undefined || values === null) throw missing(`${path}.values`);
      if (!Array.isArray(values)) throw wrongType(`${path}.values`);
      checkListLength(`${path}.values`, values.length, { min: 1, max: 10 });
      const checked = values.map((v: unknown, i) =>
        checkString(`${path}.values.${i + 1}.member`, v, { required: true, max: 512, pattern: FILTER_VALUE_PATTERN }),
      );
      return { key: key as FilterKey, values: checked };
    });
  }
}

function checkString(field: string, value: unknown, constraints: StringConstraints): string;
function checkString(field: string, value: unknown, constraints: StringConstraints): string | undefined;
function checkString(field: string, value: unknown, constraints: StringConstraints): string | undefined {
  if (value === undefined || value === null) {
    if (constraints.required) throw missing(field);
    return undefined;
  }
  if (typeof value !== 'string') throw wrongType(field);
  if (constraints.min !== undefined && value.length < constraints.min) {
    throw validationError(field, `Member must have length greater than or equal to ${constraints.min}`);
  }
  if (constraints.max !== undefined && value.length > constraints.max) {
    throw validationError(field, `Member must have length less than or equal to ${constraints.max}`);
  }
  if (constraints.maxBytes !== undefined && Buffer.byteLength(value, 'utf8') > constraints.maxBytes) {
    throw validationError(field, `Member must have length less than or equal to ${constraints.maxBytes}`);
  }
  if (constraints.pattern && !constraints.pattern.test(value)) {
    throw validationError(field, `Member must satisfy regular expression pattern: ${constraints.pattern.source}`);
  }
  return value;
}

function checkListLength(field: string, length: number, constraints: { min?: number; max?: number }): void {
  if (constraints.min !== undefined && length < constraints.min) {
    throw validationError(field, `Member must have length greater than or equal to ${constraints.min}`);
  }
  if (constraints.max !== undefined && length > constraints.max) {
    throw validationError(field, `Member must have length less than or equal to ${constraints.max}`);
  }
}

function missing(field: string): AwsServiceError {
  return validationError(field, 'Member must not be null');
}

function wrongType(field: string): AwsServiceError {
  return new AwsServiceError('SerializationException', `Unexpected JSON type for ${field}.`);
}
