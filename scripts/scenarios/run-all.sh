#!/usr/bin/env bash
# Regenerates every real scenario under testdata/scenarios/, one after the other
# (each takes 45-60 s and keeps the machine's load light). Needs root (memory
# cgroup, dmesg, php-fpm -R), nginx, php8.2-fpm, gunicorn, python3-flask (scripts/deps.sh)
# and node/npm (PM2 and Express are installed locally under /tmp/scenarios/npm).
#   scripts/scenarios/run-all.sh [NAME...]
# SCN_OUT_ROOT=DIR writes the captures under DIR instead of testdata/scenarios;
# scripts/scenarios/check.sh DIR then judges culprit explain on them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(pm2-oom deploy slow-upstream gunicorn-timeout express-db-refused crash-loop
         phpfpm-saturation phpfpm-queue-ny dns-failure quiet-baseline two-upstreams
         gunicorn-oom-kmsg node-heap-oom uwsgi-harakiri phpfpm-terminate backend-down rate-limit
         failover-no-incident go-panic-loop crash-twice uwsgi-listen-queue deploy-noisy-oom pm2-oom-ny flask-dependency-500
         pm2-restart rotation-mid-incident too-big-header tls-failure pm2-oom-skew
         java-oom-loop busy-hour group-down)
fi
failed=()
for n in "${names[@]}"; do
  echo "== $n" >&2
  if ! bash "$here/$n/run.sh"; then
    failed+=("$n")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
