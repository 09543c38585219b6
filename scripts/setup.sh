#!/usr/bin/env bash
# Sourced by test.sh and tour.sh: installs what a fresh machine with Node 20 and npm lacks.
# Idempotent: each step is skipped when its tool or files are already there.

PNPM_VERSION=10.34.9

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "› installing pnpm $PNPM_VERSION (npm install -g)"
    npm install -g "pnpm@$PNPM_VERSION" --silent >/dev/null
  fi
}

# memcached for the integration tests; sasl2-bin (saslpasswd2) for the SASL test's user database; nutcracker
# (twemproxy, in /usr/sbin) for the meta transport's proxy test.
ensure_memcached() {
  command -v memcached >/dev/null 2>&1 && command -v saslpasswd2 >/dev/null 2>&1 &&
    { command -v nutcracker >/dev/null 2>&1 || [ -x /usr/sbin/nutcracker ]; } && return 0
  echo "› installing memcached, sasl2-bin and nutcracker from the OS packages (apt-get install -y memcached sasl2-bin nutcracker)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq memcached sasl2-bin nutcracker >/dev/null
}

ensure_dependencies() {
  echo "› installing dependencies from the lockfile (pnpm install --frozen-lockfile)"
  pnpm install --frozen-lockfile --reporter=silent
}
