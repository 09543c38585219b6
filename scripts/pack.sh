#!/usr/bin/env bash
# `pnpm pack:all`: builds every package and packs each one (packages/*) with `pnpm pack` into one folder, ready
# for `npm install <folder>/*.tgz` in another project. The folder is packs/ at the repository's root (ignored by
# git), or $PACKS_DIR. `pnpm pack` turns the packages' `workspace:^` dependencies on each other into version
# ranges; `npm pack` would not, and its tarballs could not be installed.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."

destination="${PACKS_DIR:-packs}"
mkdir -p "$destination"
destination="$(cd "$destination" && pwd)"
# Tarballs of another version left from an earlier run would be installed beside the new ones.
rm -f "$destination"/lovely-memcached-*.tgz

echo "› building every package (turbo run build)"
pnpm turbo run build --output-logs=errors-only >/dev/null
echo "› packing every package into $destination"
pnpm --recursive --filter './packages/*' --reporter=silent pack --pack-destination "$destination" >/dev/null
ls -1 "$destination"/lovely-memcached-*.tgz
echo "› in your app: npm install $destination/*.tgz"
