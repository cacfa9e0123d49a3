#!/usr/bin/env bash
# Judges `culprit explain` on scenario captures against the truth.json each run
# wrote, with the acceptance test's own comparison and tolerances
# (TestExplain_Scenarios: cause, upstream, window, counts, dependency):
#   scripts/scenarios/check.sh [DIR]
# DIR holds scenario directories (default testdata/scenarios), e.g. the captures
# of `SCN_OUT_ROOT=DIR scripts/scenarios/run-all.sh`, or is one of them.
# Prints one line per scenario and fails when one is wrong.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$(cd "${1:-$repo/testdata/scenarios}" && pwd)"
cd "$repo"
out=$(SCENARIO_DIR="$dir" go test ./cmd/culprit -run '^TestExplain_Scenarios$' -count=1 -v 2>&1) && rc=0 || rc=$?
# The verdict per scenario, then what was wrong where something was.
grep -E '^    --- (PASS|FAIL|SKIP)' <<<"$out" | sed -E 's/^    --- ([A-Z]+): TestExplain_Scenarios\/([^ ]+).*/\1 \2/' || true
grep -E '^        explain_test.go:[0-9]+: ' <<<"$out" | grep -v 'output:' | sed -E 's/^        explain_test.go:[0-9]+: /  /' || true
if [ "$rc" -ne 0 ] && ! grep -q -- '--- FAIL: TestExplain_Scenarios/' <<<"$out"; then
  echo "$out" | tail -20   # a build failure, not a verdict
fi
exit "$rc"
