#!/usr/bin/env bash
# `npm run dev:aws`: the whole AWS path on one machine. Starts the local Secrets Manager endpoint,
# seeds it from .env with `secrets setup --from-env .env --yes`, and runs the service with
# USE_AWS_SECRETS=true against it. Never for production: the endpoint keeps secrets in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${LOCAL_AWS_PORT:-4566}
endpoint="http://127.0.0.1:${port}"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

npx --no-install tsx src/local-aws/main.ts --port "$port" &
lsm=$!
trap 'kill "$lsm" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fsS "${endpoint}/_local/health" >/dev/null 2>&1 && break
  sleep 0.1
done

[[ -f .env ]] || npx --no-install tsx src/cli/main.ts init
policies=$(mktemp -d)
npx --no-install tsx src/cli/main.ts setup --from-env .env --yes --endpoint-url "$endpoint" --out "$policies"
rm -rf "$policies"

USE_AWS_SECRETS=true AWS_ENDPOINT_URL_SECRETS_MANAGER="$endpoint" npx --no-install tsx src/service/main.ts &
svc=$!
trap 'kill "$svc" "$lsm" 2>/dev/null || true' EXIT INT TERM
wait "$svc"
