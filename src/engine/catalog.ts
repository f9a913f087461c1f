import { SecretsError } from './errors.js';
import type { ValueKind } from './value-kinds.js';

/** One secret, declared once: everything else (AWS id, status, CLI, .env.example) derives from it. */
export interface SecretSpec<T = unknown> {
  readonly kind: ValueKind<T>;
  readonly required: boolean;
  readonly default?: T;
  readonly description: string;
  /** AWS id suffix after the prefix; defaults to the kebab-case of the name (ADMIN_TOKEN → admin-token). */
  readonly awsName?: string;
  /**
   * The previous version stays accepted (see `accepted()`) during the grace window after a
   * rotation: for tokens that clients or Meta still send while the change propagates.
   */
  readonly acceptsPrevious?: boolean;
  /** How often it should be rotated, for the operator CLI's status. */
  readonly rotation?: { readonly everyDays?: number; readonly method: string; readonly schedule: string };
  /** Generated rather than prompted for (`bytes` random bytes as URL-safe base64url, so tokens survive query strings). */
  readonly generate?: { readonly bytes: number };
}

export type CatalogSpec = Readonly<Record<string, SecretSpec<any>>>; // eslint-disable-line @typescript-eslint/no-explicit-any

type KindValue<S> = S extends SecretSpec<infer T> ? T : never;

/** What `get(name)` returns: required or defaulted secrets are always there, others may be absent. */
export type SecretValue<S> = S extends { required: true }
  ? KindValue<S>
  : S extends { default: unknown }
    ? KindValue<S>
    : KindValue<S> | undefined;

export type SecretName<C extends CatalogSpec> = Extract<keyof C, string>;

export interface CatalogEntry {
  readonly name: string;
  readonly awsId: string;
  readonly spec: SecretSpec;
}

/** A catalog bound to its AWS prefix (`<project>/<environment>`). */
export interface Catalog<C extends CatalogSpec = CatalogSpec> {
  readonly spec: C;
  readonly prefix: string;
  readonly entries: readonly CatalogEntry[];
  entry(name: string): CatalogEntry | undefined;
  /** Catalog name for an AWS id or ARN of this catalog, if any. */
  nameForAwsId(idOrArn: string): string | undefined;
}

const NAME = /^[A-Z][A-Z0-9_]*$/;
const PREFIX_PART = /^[a-z0-9][a-z0-9-]*$/;

export function kebab(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

export function defineCatalog<const C extends CatalogSpec>(
  spec: C,
  options: { project?: string; environment?: string } = {},
): Catalog<C> {
  const { project = 'whatsapp-saas', environment = 'mvp' } = options;
  for (const [setting, value] of [
    ['project', project],
    ['environment', environment],
  ] as const) {
    if (!PREFIX_PART.test(value)) {
      throw new SecretsError('SECRETS_INVALID_CONFIG', `Invalid ${setting}: use lowercase letters, digits and dashes`);
    }
  }
  const prefix = `${project}/${environment}`;
  const entries: CatalogEntry[] = [];
  const byAwsId = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) {
    if (!NAME.test(name)) throw new SecretsError('SECRETS_INVALID_CONFIG', `Invalid secret name ${JSON.stringify(name)}: use UPPER_SNAKE_CASE`);
    if (s.default !== undefined && s.required) {
      throw new SecretsError('SECRETS_INVALID_CONFIG', `Secret ${name} is required and has a default: choose one`);
    }
    const awsId = `${prefix}/${s.awsName ?? kebab(name)}`;
    if (byAwsId.has(awsId)) throw new SecretsError('SECRETS_INVALID_CONFIG', `Secrets ${byAwsId.get(awsId)} and ${name} share AWS id ${awsId}`);
    byAwsId.set(awsId, name);
    entries.push({ name, awsId, spec: s });
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  return { spec, prefix, entries, entry: (name) => byName.get(name), nameForAwsId: awsIdIndex(entries) };
}

/** arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters> */
const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/;

/**
 * Which of `entries` an AWS id or ARN names, by exact match only: a secret `admin-token-x` is
 * not `admin-token`. The one mapping from AWS answers back to catalog names.
 */
export function awsIdIndex(entries: readonly CatalogEntry[]): (idOrArn: string) => string | undefined {
  const byAwsId = new Map(entries.map((e) => [e.awsId, e.name]));
  return (idOrArn) => byAwsId.get(idOrArn) ?? byAwsId.get(SECRET_ARN.exec(idOrArn)?.[1] ?? '');
}
