/** Usage text, global and per command (`secrets <command> --help`). */

const GLOBAL_OPTIONS = `Global options:
  --region R            AWS region (default: AWS_REGION, else us-east-1)
  --endpoint-url URL    Secrets Manager endpoint (default: AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL)
  --profile P           AWS profile from ~/.aws (default: AWS_PROFILE)
  --project P           catalog project (default: whatsapp-saas)
  --environment E       catalog environment (default: mvp)
  --json                machine-readable output
  -h, --help            this help
Exit codes: 0 ok, 1 failure, 2 usage error, 130 cancelled.
`;

export const USAGE = `Usage: secrets <command> [options]

Commands:
  setup     create missing secrets (tokens generated), update changed ones, write IAM policies
  status    each secret: exists, version, last changed, rotation due
  rotate    rotate admin-token, meta-verify-token, database-password or redis-password (resumable)
  rollback  move AWSCURRENT back to AWSPREVIOUS (or cancel an unfinished rotation)
  verify    check admin-token's stages, and that the service accepts the current token
  iam       write the four least-privilege IAM policies (and the optional alarms one)
  init      create .env (0600) with generated tokens
  check     validate .env against the catalog (never prints values)
  alarms    CloudWatch alarms on metrics AWS publishes (print, or --apply)
  unlock    end an admin lockout of a client address on every instance (Redis and memory)

Run "secrets <command> --help" for a command's options.

${GLOBAL_OPTIONS}`;

const COMMANDS: Readonly<Record<string, string>> = {
  setup: `Usage: secrets setup [--from-env FILE] [--terraform-dir DIR] [--yes] [--policies-dir DIR]
                     [--overwrite NAME]... [--enable-rotation ARN] [--replica-regions R1[,R2...]] [--json]

Checks credentials and reads what is stored (before asking anything), shows the caller identity,
region and prefix, asks to continue, then for each catalog secret: creates it when missing
(ADMIN_TOKEN and META_VERIFY_TOKEN generated, URL-safe; others from --from-env or a hidden prompt
that checks each value as you type it), writes a new version only when the value changed, prints
a line as each secret is done, writes the IAM policies, and ends with a summary line.
A secret rotated since setup wrote it (an unfinished rotation, a version setup did not write, a
ROTATION_IMMEDIATE label, a rotation-log line) is never reverted to the file's value: it is kept
and named. Re-running it changes nothing, after rotations too.

  --from-env FILE       take values from a dotenv file (CI; with --yes)
  --terraform-dir DIR   build DATABASE_URL from \`terraform output -json\` in DIR
  --yes, -y             do not ask to continue (and, without --from-env, prompt for nothing)
  --overwrite NAME      replace the rotated secret NAME (e.g. ADMIN_TOKEN) with the given value on
                        purpose; repeatable; writes a rotation-log line (action "overwrite"), and
                        is refused within 10 minutes of its last new version unless --force
  --policies-dir DIR    where the IAM policies for your account go (default: .generated/iam-policies,
                        git-ignored; the committed iam-policies/ are written only by "secrets iam")
  --out DIR             older name of --policies-dir
  --enable-rotation ARN have Secrets Manager rotate each rotatable secret with the Lambda function
                        ARN on the catalog's schedule (admin token: every 90 days), through
                        RotateSecret without rotating now
  --replica-regions R1[,R2...]
                        replicate every catalog secret to these regions (AddReplicaRegions on
                        create, ReplicateSecretToRegions for existing secrets; only missing
                        regions are added, so a re-run changes nothing). Writes stay in the
                        primary region (--region / AWS_REGION); pointed at a replica, setup stops
                        and names the primary
`,
  status: `Usage: secrets status [--json]

Per catalog secret: exists, AWSCURRENT version id, last changed, rotation schedule, whether a
rotation is due or overdue, and whether Secrets Manager rotates it (RotationEnabled) and when
next, and its replicas per region with their replication status (--json: a \`replication\`
array of {region, status, statusMessage?}; in a replica region: which region is its primary).
Never prints values. Exits 1 if a required secret is missing.
`,
  rotate: `Usage: secrets rotate admin-token|meta-verify-token [--strategy immediate|graceful]
                 [--save-token PATH | --print] [--url URL] [--notify URL...] [--force] [--yes]
                 [--rotation-log PATH]
       secrets rotate database-password [--strategy single-user|alternating-users]
                 [--master-secret ID] [--notify URL...] [--force] [--yes] [--rotation-log PATH]
       secrets rotate redis-password [--master-secret ID] [--notify URL...] [--force] [--yes]
                 [--rotation-log PATH]

Rotates in AWS's four steps: a new 64-character URL-safe token under AWSPENDING (its version id is
an explicit ClientRequestToken), handed over at once (0600 file, or --print), tested, then made
AWSCURRENT with UpdateSecretVersionStage naming the version it replaces. If anything stops it half
way, run the same command again: it resumes the pending version (found under AWSPENDING, or in the
reserved token file) instead of starting another; "secrets rollback" cancels it instead.
  --strategy immediate  the old token stops working as soon as instances refresh (default)
  --strategy graceful   both tokens work during the service's grace window
  --save-token PATH     hand the token over in PATH, created with mode 0600, never overwritten
                        (default: .<secret>-new-<version id>.txt, e.g. .admin-token-new-<id>.txt)
  --print               print the new token on stdout instead (nothing else goes to stdout)
  --url URL             test step: the service at URL must serve the secret's current version
                        (GET URL/admin/secrets/health) before the switch
  --notify URL          after the switch, POST URL/admin/refresh-secrets (repeatable); for the
                        admin token, authenticated with the old token, which instances still hold
  --force               rotate even within 10 minutes of the last rotation (the version setup
                        creates does not count)
  --yes, -y             rotate without asking to confirm (needed without a terminal, e.g. in CI)
  --rotation-log PATH   append the audit line here (default: <secret>-rotation.log)
After the switch, a failing log or notice is a warning (exit 0) naming the committed version.

database-password and redis-password never show the password: it goes from Secrets Manager to
the server. After the switch they also publish a refresh notice on Redis (channel secrets:refresh:<project>/<environment>:aws).
  --strategy single-user        the role's own password changes (ALTER ROLE ... PASSWORD, sent as
                                its SCRAM verifier); new logins with the old one are refused until
                                instances refresh, which they do at once with --notify (default)
  --strategy alternating-users  the secret moves to the other role of the pair (app <-> app_clone,
                                created on first use by the master with the current role's grants)
                                with a new password; the current role keeps working
  --master-secret ID            a secret with a superuser/CREATEROLE login (database; default: the
                                secret's masterarn field) or a user allowed ACL SETUSER (Redis;
                                default: the current credentials); only its user and password are used
redis-password adds the new password beside the old one (ACL SETUSER), switches, and removes the
old one once every instance named by --notify has refreshed; otherwise the next rotation removes it.
A run stopped half way is finished by running it again, never cancelled. When AWSCURRENT's password
no longer logs in (an older release's overlapping rotations), the command repairs it: it finishes
onto the version (pending or unlabelled) whose password the server takes.

Claim, then act: the new version is put under a label of its own, then AWSPENDING is moved to it
without RemoveFromVersionId, which Secrets Manager refuses while another rotation holds it; that
happens only after you confirm. If another rotation (another operator, the rotation function) holds
it, nothing changes and the message names the version to resume. Every step with an effect outside
Secrets Manager (handing a token over, ALTER ROLE, ACL SETUSER, the switch) re-checks the claim first.
`,
  rollback: `Usage: secrets rollback admin-token|meta-verify-token [--graceful] [--force] [--yes]
                   [--notify URL...] [--rotation-log PATH] [--json]
       secrets rollback database-password|redis-password [--master-secret ID] [--force] [--yes]
                   [--rotation-log PATH] [--json]

Moves AWSCURRENT back to the AWSPREVIOUS version with UpdateSecretVersionStage, naming the version
it moves from: if the secret changed meanwhile, nothing happens and it exits 1. Immediate by
default: the restored version gets the ROTATION_IMMEDIATE label, so instances refuse the token
rolled away from as soon as they refresh. If a rotation is unfinished (a version under AWSPENDING),
rollback cancels it instead and leaves AWSCURRENT alone.
  --graceful            leave no ROTATION_IMMEDIATE label: instances keep accepting the token
                        rolled away from for their grace window
  --force               roll back even when the version to restore is the one an earlier
                        rollback moved away from (labelled ROLLED_BACK): that switches back
  --notify URL          POST URL/admin/refresh-secrets (repeatable); without it, the output says
                        how to refresh the instances
  --yes, -y             roll back without asking to confirm (needed without a terminal)
  --rotation-log PATH   append the audit line here (default: <secret>-rotation.log)
  --master-secret ID    database-password and redis-password: the login that sets the password back
                        when the role's own does not (as for rotate)

database-password and redis-password move AWSCURRENT back only to a password the server takes:
the other role of an alternating pair is switched back to if it still logs in; the same user
(single-user, Redis) is rolled back as a rotation to the previous password: a new version holding
it takes the claim (AWSPENDING), the password is set back at the server (ALTER ROLE, as the role
itself or the --master-secret login; ACL SETUSER) while the claim holds, then AWSCURRENT moves to
it. After the move, a refresh notice on Redis (channel secrets:refresh:<project>/<environment>:aws),
as after a rotation. Stopped half way, "secrets rotate" finishes it. An unfinished rotation is
cancelled only while
AWSCURRENT's password still logs in and the rotation has not begun setting its password (its
version labelled ROTATION_SETTING_<id>), checked right before the cancel and after it; otherwise it
says to finish it with "secrets rotate". The labels are read again once you confirm: changed
meanwhile, it stops. Where it cannot be done safely it says so and changes nothing.
`,
  verify: `Usage: secrets verify admin-token [--url URL] [--json]

Checks that AWSCURRENT exists and no rotation is left unfinished; with --url, that GET
URL/admin/secrets/health accepts the current token (and, when the current version is labelled
ROTATION_IMMEDIATE, refuses the previous one). A failed check prints a hint. The exit code is the
result.
`,
  iam: `Usage: secrets iam [--account ID] [--region R] [--prefix P] [--out DIR] [--json]
                  [--cloudtrail-log-group NAME] [--service-log-group NAME]
                  [--replica-regions R1[,R2...]]

Writes secrets-read-only-policy.json, secrets-cicd-policy.json, secrets-rotation-policy.json and
secrets-rotation-function-policy.json (default account 123456789012, prefix whatsapp-saas/mvp, out
dir iam-policies), and the optional
secrets-alarms-policy.json for \`secrets alarms --apply\`, scoped to the two log groups
(default aws-cloudtrail-logs-<account>-* and /ecs/whatsapp-saas-backend).
With --replica-regions the app may read the replicas in those regions and decrypt there through
Secrets Manager, CI/CD may replicate and read them, rotation may read them; nobody may write to a
replica. The committed iam-policies/ are written with --replica-regions us-west-2.
`,
  alarms: `Usage: secrets alarms [--instances N] [--ttl-ms MS] [--cloudtrail-log-group NAME]
                     [--service-log-group NAME] [--sns-topic ARN...] [--apply [--yes]] [--json]

CloudWatch metric filters and alarms for the catalog's secrets, on metrics AWS really publishes.
(The seed guide's SecretAccessCount and ErrorCount in AWS/SecretsManager do not exist: that
namespace has only ResourceCount.)
  unusual-access-GetSecretValue / -BatchGetSecretValue
      CallCount in AWS/Usage (Service=Secrets Manager, Type=API, Resource=<operation>, Class=None),
      hourly sum above the worst case of the refresh paths: N instances refreshing every
      TTL/2..TTL (x2), 6 full manual refreshes and 4 rotations an hour (see the guide, Alarms).
      CallCount counts every caller in the account and region.
  access-errors      CloudTrail events from secretsmanager.amazonaws.com with an errorCode (but
                     ResourceNotFoundException), counted by a metric filter on the trail's log group
  refresh-failures   the service's "secrets.refresh_failed" log lines, in two 15-minute periods running
  rotation-overdue   the service's "secrets.rotation_overdue" log lines (logged every 30 minutes)

  --instances N             service instances reading the secrets (default 2)
  --ttl-ms MS               the service's SECRETS_TTL_MS (default 3600000)
  --cloudtrail-log-group    the CloudWatch Logs group your CloudTrail trail delivers to; without it
                            the access-errors filter and alarm are left out
  --service-log-group       the service's log group (default /ecs/whatsapp-saas-backend)
  --sns-topic ARN           notify this topic on ALARM and OK (repeatable); --apply without it
                            warns that the alarms notify no one
  --apply                   create or update them (PutMetricFilter, PutMetricAlarm), only where the
                            stored definition differs; asks first unless --yes. Needs
                            iam-policies/secrets-alarms-policy.json. Endpoints: the SDK's own
                            AWS_ENDPOINT_URL_CLOUDWATCH / AWS_ENDPOINT_URL_CLOUDWATCH_LOGS
                            (--endpoint-url is the Secrets Manager endpoint, unused here).
  --json                    without --apply: the exact PutMetricFilter and PutMetricAlarm inputs
`,
  unlock: `Usage: secrets unlock ADDRESS --redis-url URL [--json]

Ends the admin lockout of one client address (as in the service's admin.lockout line) on every
instance: deletes its failure count in Redis and publishes a notice on which every instance
forgets the count it kept in memory while Redis was down, logging admin.unlocked with who ran
this (user@host). Any spelling of an address unlocks it (2001:DB8:0::7 is 2001:db8::7), and
IPv4 addresses also clear their ::ffff: form. Needs no AWS credentials.

  --redis-url URL       the Redis the instances share (default: REDIS_URL); never printed
`,
  init: `Usage: secrets init [--env-file PATH]

Creates .env (mode 0600) from .env.example with generated ADMIN_TOKEN and META_VERIFY_TOKEN
(48 random bytes, URL-safe); leaves an existing file alone.
  --env-file PATH       the file to create (default: .env)
`,
  check: `Usage: secrets check [--env-file PATH] [--json]

Validates .env against the catalog: missing, invalid (with the reason) and unknown names. Never
prints values. Exits 1 on a missing or invalid secret.
  --env-file PATH       the file to check (default: .env)
`,
};

/** The help for one command (with the global options), or the overview for an unknown one. */
export function helpFor(command: string | undefined): string {
  const text = command === undefined ? undefined : COMMANDS[command];
  return text === undefined ? USAGE : `${text}\n${GLOBAL_OPTIONS}`;
}
