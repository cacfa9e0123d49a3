#!/usr/bin/env bash
# make demo: culprit's main job on bundled real logs, with no services.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/culprit
[ -x "$bin" ] || go build -o "$bin" ./cmd/culprit
echo "# culprit parse --stats over the bundled real nginx error log lines" >&2
cat parser/testdata/*/*.log 2>/dev/null | "$bin" parse --stats
