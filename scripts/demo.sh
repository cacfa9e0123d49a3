#!/usr/bin/env bash
# make demo: culprit's main job, `culprit explain`, on a bundled real incident
# (a Node app under PM2 OOM-killed by the real kernel in a memory cgroup, see
# testdata/scenarios/pm2-oom/README.md). No Kafka, no ClickHouse.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/culprit
go build -o "$bin" ./cmd/culprit
scenario=${1:-testdata/scenarios/pm2-oom}
echo "\$ culprit explain $scenario" >&2
"$bin" explain "$scenario"
