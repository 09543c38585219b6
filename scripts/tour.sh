#!/usr/bin/env bash
# The tour of the library: in memory by default; against real memcached when MEMCACHED_SERVERS is set
# (comma-separated host:port). Installs pnpm and the dependencies first when missing.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_pnpm
[ -d node_modules/.pnpm ] || ensure_dependencies
exec pnpm --silent --filter @lovely-memcached/examples tour
