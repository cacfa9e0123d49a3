#!/usr/bin/env bash
# Benchmark of `culprit explain` end to end (read, parse, correlate, print):
# a million-line nginx access log plus its error log, the kernel's OOM-kill
# blocks and PM2's and the app's logs, made by replaying the real pm2-oom
# scenario (testdata/scenarios/pm2-oom) with shifted times and connection
# serials (cmd/culprit/explain_bench_test.go). Every copy is a real incident,
# so the engine works at its busiest. Prints lines/s, CPU seconds and peak RSS
# (from /usr/bin/time -v) for RUNS runs and their median.
# usage: scripts/bench/explain.sh   (LINES=1000000 RUNS=3 DIR=/tmp/culprit-bench-explain)
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${LINES:-1000000}
runs=${RUNS:-3}
dir=${DIR:-/tmp/culprit-bench-explain}
bin=$(mktemp -d /tmp/culprit-explain-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/culprit" ./cmd/culprit
if [ ! -s "$dir/access.log" ] || [ "$(wc -l <"$dir/access.log")" -ne "$lines" ]; then
  rm -rf "$dir"
  go test ./cmd/culprit -run '^TestWriteExplainCorpus$' -count=1 -args -explain.corpus="$dir" -explain.lines="$lines" >/dev/null
fi
total=$(cat "$dir"/*.log | wc -l)
bytes=$(cat "$dir"/*.log | wc -c)
echo "corpus: $total lines ($((bytes >> 20)) MB) in $dir: $(cd "$dir" && wc -l *.log | head -n -1 | awk '{printf "%s %s, ", $2, $1}')"
results=()
for i in $(seq "$runs"); do
  /usr/bin/time -v "$bin/culprit" explain --json --progress never "$dir" >"$bin/out.json" 2>"$bin/time.txt"
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
