#!/usr/bin/env bash
# make bench: every benchmark script under scripts/bench/, in order. Each
# prints its own table of medians with the machine noted.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for b in scripts/bench/*.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b"
done
