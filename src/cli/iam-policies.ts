import { type AlarmsPolicyScope, buildAlarmsPolicy } from './alarms-policy.js';

/**
 * The IAM policies of the seed's IAM Permissions section, least privilege, each granting exactly
 * the calls its path makes (tests prove it by recording those calls against an IAM simulator):
 * - read-only (the app): what the engine calls (BatchGetSecretValue, alone on `*` as AWS requires,
 *   and GetSecretValue for its fallback and previous versions) on the prefix's secrets;
 * - CI/CD: what `secrets setup` (with --enable-rotation) and `secrets status` call: create (with
 *   tags), put, read, describe, schedule rotation and invoke the rotation function; never delete;
 * - rotation (people rotating tokens with the CLI): read, put and move the stages of the admin token
 *   and the Meta secrets; never the database or Redis ones;
 * - rotation function (its execution role, and people running `rotate database-password|
 *   redis-password`): the four secrets it rotates, and only GetSecretValue on the master secrets.
 * Secret ARNs end in `-` and six random characters: `-??????` matches exactly one secret, where
 * `-*` would also match any secret whose name merely starts the same way.
 * KMS: with a customer-managed key, Secrets Manager decrypts for readers (kms:Decrypt) and makes
 * data keys for writers (kms:GenerateDataKey), only on their behalf (kms:ViaService). With the
 * AWS-managed key (aws/secretsmanager) no KMS statement is needed at all.
 * Plus an optional one for `secrets alarms --apply` (alarms-policy.ts).
 * Replica regions (`replicaRegions`): a replica has the same name in another region, so its ARN
 * differs only by region. The app reads replicas (and decrypts through Secrets Manager there, a
 * replica may use its own key); rotation and CI/CD read them to check replication; nobody writes
 * to them (Secrets Manager refuses, and no policy allows it): writes stay in the primary region,
 * whose ReplicateSecretToRegions CI/CD may call.
 */
export interface PolicyScope extends AlarmsPolicyScope {
  readonly account: string;
  readonly region: string;
  readonly prefix: string;
  /** Regions the secrets are replicated to (SECRETS_REPLICA_REGIONS); none by default. */
  readonly replicaRegions?: readonly string[];
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly Record<string, unknown>[];
}

export const POLICY_FILES = {
  readOnly: 'secrets-read-only-policy.json',
  cicd: 'secrets-cicd-policy.json',
  rotation: 'secrets-rotation-policy.json',
  rotationFunction: 'secrets-rotation-function-policy.json',
  alarms: 'secrets-alarms-policy.json',
} as const;

/** The prefix's secret ARNs (`*`), or one secret's (`-??????`: its six-character suffix), in the primary region or `region`. */
const arn = (s: PolicyScope, name: string, region = s.region) => `arn:aws:secretsmanager:${region}:${s.account}:secret:${s.prefix}/${name}`;
const one = (s: PolicyScope, name: string, region = s.region) => arn(s, `${name}-??????`, region);
/** A policy's Resource: one ARN alone, or the list. */
const resource = (arns: readonly string[]) => (arns.length === 1 ? arns[0]! : [...arns]);

/** The rotation function's name: `<project>-<environment>-secrets-rotation` (the prefix with dashes). */
export function rotationFunctionName(scope: PolicyScope): string {
  return `${scope.prefix.replace(/\//g, '-')}-secrets-rotation`;
}

/** The master secrets alternating-users and the Redis rotation log in with (`--master-secret`). */
export const MASTER_SECRET_NAMES = ['database-master', 'redis-master'] as const;

export function buildPolicies(scope: PolicyScope): Record<keyof typeof POLICY_FILES, PolicyDocument> {
  const all = arn(scope, '*');
  const replicaRegions = scope.replicaRegions ?? [];
  const everyRegion = [scope.region, ...replicaRegions];
  const allEverywhere = everyRegion.map((r) => arn(scope, '*', r));
  /** KMS through Secrets Manager only (kms:ViaService), in the given regions. */
  const kms = (sid: string, actions: readonly string[], regions: readonly string[]) => ({
    Sid: sid,
    Effect: 'Allow',
    Action: [...actions],
    Resource: resource(regions.map((r) => `arn:aws:kms:${r}:${scope.account}:key/*`)),
    Condition: { StringEquals: { 'kms:ViaService': resource(regions.map((r) => `secretsmanager.${r}.amazonaws.com`)) } },
  });
  const decryptOnly = kms('DecryptOnlyThroughSecretsManager', ['kms:Decrypt'], everyRegion);
  // CreateSecret and PutSecretValue have Secrets Manager make a data key under a customer-managed key.
  const encryptAndDecrypt = kms('UseKeyOnlyThroughSecretsManager', ['kms:Decrypt', 'kms:GenerateDataKey'], [scope.region]);
  const inReplicas = (sid: string, actions: readonly string[]) => (replicaRegions.length === 0 ? [] : [kms(sid, actions, replicaRegions)]);
  // Reading replicas (status, and checking that a rotation's label moves reached them); never writing there.
  const readReplicas = (names: readonly string[] | '*', actions: readonly string[]) =>
    replicaRegions.length === 0
      ? []
      : [
          {
            Sid: 'ReadReplicas',
            Effect: 'Allow',
            Action: [...actions],
            Resource: names === '*' ? replicaRegions.map((r) => arn(scope, '*', r)) : replicaRegions.flatMap((r) => names.map((n) => one(scope, n, r))),
          },
        ];
  const rotatedByFunction = ['admin-token', 'meta-verify-token', 'database-url', 'redis-url'].map((n) => one(scope, n));
  return {
    readOnly: {
      Version: '2012-10-17',
      Statement: [
        // The primary and its replicas: the engine reads a replica when the primary region fails.
        { Sid: 'ReadAppSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: resource(allEverywhere) },
        // AWS authorizes BatchGetSecretValue on "*" and each secret's GetSecretValue separately.
        { Sid: 'BatchGetRequiresStar', Effect: 'Allow', Action: ['secretsmanager:BatchGetSecretValue'], Resource: '*' },
        decryptOnly,
      ],
    },
    cicd: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ManageAppSecrets',
          Effect: 'Allow',
          Action: [
            'secretsmanager:CreateSecret',
            // CreateSecret with Tags is also authorized as TagResource.
            'secretsmanager:TagResource',
            'secretsmanager:PutSecretValue',
            'secretsmanager:GetSecretValue',
            'secretsmanager:DescribeSecret',
            // setup reads the versions' labels, so a secret rotated since it wrote it is never reverted,
            // and makes a new value of a rotatable secret current only from the version it decided on.
            'secretsmanager:ListSecretVersionIds',
            'secretsmanager:UpdateSecretVersionStage',
            'secretsmanager:RotateSecret',
            // setup --replica-regions (and CreateSecret with AddReplicaRegions).
            ...(replicaRegions.length > 0 ? ['secretsmanager:ReplicateSecretToRegions'] : []),
          ],
          Resource: all,
        },
        ...readReplicas('*', ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']),
        // RotateSecret (setup --enable-rotation) needs its caller to be allowed to invoke the function.
        {
          Sid: 'InvokeRotationFunction',
          Effect: 'Allow',
          Action: ['lambda:InvokeFunction'],
          Resource: `arn:aws:lambda:${scope.region}:${scope.account}:function:${rotationFunctionName(scope)}`,
        },
        { Sid: 'NeverDelete', Effect: 'Deny', Action: ['secretsmanager:DeleteSecret'], Resource: '*' },
        encryptAndDecrypt,
        // A replica encrypted with its own key: Secrets Manager encrypts it there for the caller of ReplicateSecretToRegions.
        ...inReplicas('ReplicaKeyThroughSecretsManager', ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
      ],
    },
    rotation: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotateTokens',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage', 'secretsmanager:ListSecretVersionIds'],
          Resource: [one(scope, 'admin-token'), one(scope, 'meta-verify-token'), one(scope, 'meta-app-secret')],
        },
        ...readReplicas(['admin-token', 'meta-verify-token', 'meta-app-secret'], [
          'secretsmanager:GetSecretValue',
          'secretsmanager:DescribeSecret',
          'secretsmanager:ListSecretVersionIds',
        ]),
        ...inReplicas('DecryptReplicasThroughSecretsManager', ['kms:Decrypt']),
        {
          Sid: 'NeverDatabaseOrRedis',
          Effect: 'Deny',
          Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage', 'secretsmanager:UpdateSecret'],
          Resource: [one(scope, 'database-url'), one(scope, 'redis-url')],
        },
        encryptAndDecrypt,
      ],
    },
    rotationFunction: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotateItsSecrets',
          Effect: 'Allow',
          Action: [
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
            'secretsmanager:ListSecretVersionIds',
          ],
          Resource: rotatedByFunction,
        },
        // Alternating-users and the Redis ACL change log in with these; nothing else of them.
        { Sid: 'ReadMasterSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: MASTER_SECRET_NAMES.map((n) => one(scope, n)) },
        encryptAndDecrypt,
      ],
    },
    alarms: buildAlarmsPolicy(scope),
  };
}
