#!/usr/bin/env bash
# The seed guide's setup script, as a thin wrapper over the operator CLI:
#   setup-aws-secrets.sh                          interactive: confirm, then hidden prompts
#   setup-aws-secrets.sh --from-env FILE --yes    non-interactive (CI)
set -euo pipefail
exec npx --no-install tsx "$(dirname "$0")/../src/cli/main.ts" -- setup "$@"
