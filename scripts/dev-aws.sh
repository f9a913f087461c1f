#!/usr/bin/env bash
# `npm run dev:aws`: the whole AWS path on one machine. Starts the local Secrets Manager endpoint,
# seeds it from the .env file with `secrets setup --from-env FILE --yes`, and runs the service with
# USE_AWS_SECRETS=true against it. Never for production: the endpoint keeps secrets in memory.
#
# Settings (environment variables; paths are relative to the repository):
#   LOCAL_AWS_PORT  port of the local Secrets Manager endpoint (default 4566)
#   PORT            port of the service (default: PORT in the environment, else in ENV_FILE, else 3000)
#   ENV_FILE        the .env that seeds the endpoint (default .env; created by `secrets init` if missing)
# Both ports are checked first: a port already in use is refused, never seeded or shared.
# Ctrl-C, or the service exiting for any reason (failing to listen included), stops the endpoint too.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'dev:aws: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit 1
}

# Children and the scratch folder, cleaned up on every way out.
lsm='' svc='' scratch=''
cleanup() {
  local code=$?
  set +e
  trap - EXIT INT TERM
  [[ -n "$svc" ]] && kill -TERM "$svc" 2>/dev/null
  [[ -n "$lsm" ]] && kill -TERM "$lsm" 2>/dev/null
  wait 2>/dev/null
  [[ -n "$scratch" ]] && rm -rf "$scratch"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Node runs the TypeScript entries directly (one process each, so a signal reaches the program itself).
# The `--` before CLI arguments ends node's own options (Node 20 would take --env-file as its own).
ts=(node --import tsx)

check_port() {
  local port=$1 name=$2 what=$3
  [[ "$port" =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) || fail "$name must be a port number from 1 to 65535"
  # A connection that succeeds means something listens there: refuse rather than seed or share it.
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port ($name, $what) is already in use: stop what runs there, or set $name to a free port"
  fi
}

env_file=${ENV_FILE:-.env}
aws_port=${LOCAL_AWS_PORT:-4566}
if [[ ! -f "$env_file" ]]; then
  "${ts[@]}" src/cli/main.ts -- init --env-file "$env_file"
fi
if [[ -z "${PORT:-}" ]]; then
  PORT=$(sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}PORT[[:space:]]*=[[:space:]]*["'\'']\{0,1\}\([0-9]*\).*$/\2/p' "$env_file" | tail -n 1)
fi
svc_port=${PORT:-3000}
check_port "$aws_port" LOCAL_AWS_PORT 'the local Secrets Manager endpoint'
check_port "$svc_port" PORT 'the service'

endpoint="http://127.0.0.1:${aws_port}"
# The local endpoint accepts any credentials; the operator's own never leave for it.
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

scratch=$(mktemp -d)
# Created before the background job's own redirection, so the first grep below never races it.
: >"$scratch/local-aws.log"
"${ts[@]}" src/local-aws/main.ts --port "$aws_port" >"$scratch/local-aws.log" 2>&1 &
lsm=$!
# Ready only once our own process says it listens: if it could not bind, it exits instead.
for ((i = 0; i < 600; i++)); do
  grep -q "listening on ${endpoint}" "$scratch/local-aws.log" && break
  if ! kill -0 "$lsm" 2>/dev/null; then
    cat "$scratch/local-aws.log" >&2
    lsm=''
    fail "the local Secrets Manager endpoint did not start on port $aws_port (LOCAL_AWS_PORT)"
  fi
  sleep 0.1
done
grep -q "listening on ${endpoint}" "$scratch/local-aws.log" || fail "the local Secrets Manager endpoint did not start within 60 s"
say "local Secrets Manager endpoint on $endpoint (LOCAL_AWS_PORT=$aws_port); seeding it from $env_file"

"${ts[@]}" src/cli/main.ts -- setup --from-env "$env_file" --yes --endpoint-url "$endpoint"

say "starting the service on port $svc_port (PORT) with USE_AWS_SECRETS=true; Ctrl-C stops both"
USE_AWS_SECRETS=true AWS_ENDPOINT_URL_SECRETS_MANAGER="$endpoint" PORT="$svc_port" ENV_FILE="$env_file" \
  "${ts[@]}" src/service/main.ts --dev &
svc=$!
code=0
wait "$svc" || code=$?
svc=''
exit "$code"
