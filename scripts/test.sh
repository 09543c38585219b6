#!/usr/bin/env bash
# Every test: installs pnpm, memcached and the dependencies when missing, builds every package, then runs the
# unit, contract and integration tests (integration tests start their own memcached on free loopback ports).
# Ends with one line: "N passed, N failed" (TEST_SUMMARY=0 leaves it out, for a caller that adds up several runs;
# TEST_REPORT sets where vitest's JSON report goes, .test-results/vitest.json by default).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_pnpm
ensure_memcached
ensure_dependencies

echo "› building every package (turbo run build)"
pnpm turbo run build --output-logs=errors-only

echo "› checking the published shape of every package (publint, are-the-types-wrong)"
pnpm turbo run check:package --output-logs=errors-only

echo "› running every test (vitest)"
report="${TEST_REPORT:-.test-results/vitest.json}"
mkdir -p "$(dirname "$report")"
rm -f "$report"
status=0
pnpm vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
[ "${TEST_SUMMARY:-1}" = 0 ] || node scripts/test-summary.mjs "$report"
exit "$status"
