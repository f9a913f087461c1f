import { type AlarmsPolicyScope, buildAlarmsPolicy } from './alarms-policy.js';

/**
 * The three IAM policies of the seed's IAM Permissions section, least privilege:
 * - read-only (the app): exactly what the engine calls, on the prefix's secrets; BatchGetSecretValue
 *   alone on `*` (AWS requires that resource for it); KMS decrypt only through Secrets Manager;
 * - CI/CD: create, put, update, tag, describe, list; never delete;
 * - rotation: put and move stages of the admin token and the meta-* secrets only; never the
 *   database or Redis ones.
 * Plus an optional fourth for `secrets alarms --apply` (alarms-policy.ts).
 */
export interface PolicyScope extends AlarmsPolicyScope {
  readonly account: string;
  readonly region: string;
  readonly prefix: string;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly Record<string, unknown>[];
}

export const POLICY_FILES = {
  readOnly: 'secrets-read-only-policy.json',
  cicd: 'secrets-cicd-policy.json',
  rotation: 'secrets-rotation-policy.json',
  alarms: 'secrets-alarms-policy.json',
} as const;

/** Secret ARNs end in `-` and six random characters. */
const arn = (s: PolicyScope, name: string) => `arn:aws:secretsmanager:${s.region}:${s.account}:secret:${s.prefix}/${name}`;

export function buildPolicies(scope: PolicyScope): Record<keyof typeof POLICY_FILES, PolicyDocument> {
  const all = arn(scope, '*');
  const kmsViaSecretsManager = {
    Sid: 'DecryptOnlyThroughSecretsManager',
    Effect: 'Allow',
    Action: ['kms:Decrypt'],
    Resource: `arn:aws:kms:${scope.region}:${scope.account}:key/*`,
    Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${scope.region}.amazonaws.com` } },
  };
  return {
    readOnly: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ReadAppSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: all },
        // AWS authorizes BatchGetSecretValue on "*" and each secret's GetSecretValue separately.
        { Sid: 'BatchGetRequiresStar', Effect: 'Allow', Action: ['secretsmanager:BatchGetSecretValue'], Resource: '*' },
        kmsViaSecretsManager,
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
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecret',
            'secretsmanager:TagResource',
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:ListSecretVersionIds',
          ],
          Resource: all,
        },
        { Sid: 'ListRequiresStar', Effect: 'Allow', Action: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'], Resource: '*' },
        { Sid: 'NeverDelete', Effect: 'Deny', Action: ['secretsmanager:DeleteSecret'], Resource: '*' },
        kmsViaSecretsManager,
      ],
    },
    rotation: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotateTokens',
          Effect: 'Allow',
          Action: [
            'secretsmanager:GetSecretValue',
            'secretsmanager:DescribeSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
            'secretsmanager:ListSecretVersionIds',
          ],
          Resource: [arn(scope, 'admin-token-*'), arn(scope, 'meta-*')],
        },
        {
          Sid: 'NeverDatabaseOrRedis',
          Effect: 'Deny',
          Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage', 'secretsmanager:UpdateSecret'],
          Resource: [arn(scope, 'database-url-*'), arn(scope, 'redis-url-*')],
        },
        kmsViaSecretsManager,
      ],
    },
    alarms: buildAlarmsPolicy(scope),
  };
}
