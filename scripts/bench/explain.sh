#!/usr/bin/env bash
# Benchmark of `culprit explain` end to end (read, parse, correlate, print):
# a million-line nginx access log plus its error log, the kernel's OOM-kill
# blocks and PM2's and the app's logs, made by replaying real scenarios with
# shifted times and connection serials (cmd/culprit/explain_bench_test.go):
#   busy:    testdata/scenarios/pm2-oom every minute: every minute a real
#            incident, the engine at its busiest;
#   typical: one pm2-oom minute, then nine minutes of
#            testdata/scenarios/quiet-baseline (404s, a 499, no 5xx).
# Prints lines/s, CPU seconds and peak RSS (from /usr/bin/time -v) for RUNS
# runs of each, and their median.
# usage: scripts/bench/explain.sh   (LINES=1000000 RUNS=3 DIR=/tmp/culprit-bench-explain MODES="busy typical")
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${LINES:-1000000}
runs=${RUNS:-3}
dir=${DIR:-/tmp/culprit-bench-explain}
bin=$(mktemp -d /tmp/culprit-explain-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/culprit" ./cmd/culprit
for mode in ${MODES:-busy typical}; do
case $mode in
  busy) quiet=0 ;;
  typical) quiet=9 ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
mdir="$dir-$mode"
echo "== $mode"
if [ ! -s "$mdir/access.log" ] || [ "$(wc -l <"$mdir/access.log")" -ne "$lines" ]; then
  rm -rf "$mdir"
  go test ./cmd/culprit -run '^TestWriteExplainCorpus$' -count=1 -args -explain.corpus="$mdir" -explain.lines="$lines" -explain.quiet="$quiet" >/dev/null
fi
total=$(cat "$mdir"/*.log | wc -l)
bytes=$(cat "$mdir"/*.log | wc -c)
echo "corpus: $total lines ($((bytes >> 20)) MB) in $mdir: $(cd "$mdir" && wc -l *.log | head -n -1 | awk '{printf "%s %s, ", $2, $1}')"
results=()
for i in $(seq "$runs"); do
  /usr/bin/time -v "$bin/culprit" explain --json --progress never "$mdir" >"$bin/out.json" 2>"$bin/time.txt"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$bin/time.txt")
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  user=$(awk -F': ' '/User time/ {print $2}' "$bin/time.txt")
  sys=$(awk -F': ' '/System time/ {print $2}' "$bin/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$bin/time.txt")
  incidents=$(grep -c '"id":' "$bin/out.json" || true)
  lps=$(awk -v n="$total" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  cpu=$(awk -v u="$user" -v s="$sys" -v n="$total" 'BEGIN { printf "%.2f", (u + s) / n * 1e6 }')
  printf "run %d: %.2f s wall, %s lines/s, user %s s sys %s s (%s CPU-s per M lines), peak RSS %d MB, %s incidents\n" \
    "$i" "$secs" "$lps" "$user" "$sys" "$cpu" "$((rss / 1024))" "$incidents"
  results+=("$lps $((rss / 1024))")
done
printf '%s\n' "${results[@]}" | sort -n | awk -v n="$runs" '{ l[NR] = $1; r[NR] = $2 } END { m = int((n + 1) / 2); printf "median: %s lines/s, peak RSS %s MB (target: >= 500000 lines/s)\n", l[m], r[m] }'
done
