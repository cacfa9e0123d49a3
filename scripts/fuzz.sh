#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a bounded budget each ($1).
#
# The default budget is a count of executions, not a duration: with a
# duration, Go's fuzz coordinator (up to Go 1.26, go.dev/issue/75804) can
# fail a target with a bare "context deadline exceeded" when the deadline
# fires while a worker is mid-call on a loaded machine, and no crasher is
# written. A count has no deadline to race; starvation only makes it slower.
# A real finding still fails the run and writes testdata/fuzz/<target>/.
set -euo pipefail
budget=${1:-60000x}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    echo "fuzz $pkg $f ($budget)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$budget" "$pkg"
  done
done
