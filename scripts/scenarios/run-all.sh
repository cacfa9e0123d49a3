#!/usr/bin/env bash
# Regenerates every real scenario under testdata/scenarios/, one after the other
# (each takes 45-75 s and keeps the machine's load light). Needs root (memory
# cgroup, dmesg, php-fpm -R), nginx, php8.2-fpm, gunicorn, python3-flask (scripts/deps.sh)
# and node/npm (PM2 and Express are installed locally under /tmp/scenarios/npm); the
# blind scenarios also postgresql-15, redis-server, puma, ruby-sinatra, ruby-redis and
# PyPI/npm packages they install under /tmp/blind (see each run.sh).
#   scripts/scenarios/run-all.sh [NAME...]
# SCN_OUT_ROOT=DIR writes the captures under DIR instead of testdata/scenarios;
# scripts/scenarios/check.sh DIR then judges culprit explain on them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  # Every scenario that has a capture (a truth.json under testdata).
  for t in "$here"/../../testdata/scenarios/*/truth.json; do
    n="$(basename "$(dirname "$t")")"
    [ -f "$here/$n/run.sh" ] && names+=("$n")
  done
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
