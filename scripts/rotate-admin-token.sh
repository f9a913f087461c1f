#!/usr/bin/env bash
# The seed guide's rotation script, as a thin wrapper over the operator CLI:
#   rotate-admin-token.sh [rotate options]   rotate (immediate by default; --strategy graceful)
#   rotate-admin-token.sh rollback           move AWSCURRENT back to AWSPREVIOUS
#   rotate-admin-token.sh verify [--url URL] check stages and that the service accepts the token
set -euo pipefail
# `--` ends node's own options, so Node 20 never takes a CLI flag such as --env-file as its own.
cli=(npx --no-install tsx "$(dirname "$0")/../src/cli/main.ts" --)
case "${1:-}" in
  rollback | verify) action=$1; shift; exec "${cli[@]}" "$action" admin-token "$@" ;;
  *) exec "${cli[@]}" rotate admin-token "$@" ;;
esac
