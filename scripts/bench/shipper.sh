#!/usr/bin/env bash
# scripts/bench/shipper.sh: `culprit ship` against rsyslog's imfile -> omkafka,
# side by side in one run, on the same nginx access log and the same local
# broker (scripts/kafka.sh, 127.0.0.1:19092), both with acks=all and lz4.
#
# The corpus is real nginx output (scripts/corpus/gen.sh: nginx under wrk),
# repeated until it holds LINES lines (default 2,000,000). Each shipper
# starts on the complete file; the clock runs from its start until the
# topic's end offsets add up to LINES (read with kcat -Q). CPU is the
# process's user+system time and RSS its peak (VmHWM), from /proc.
#
# usage: scripts/bench/shipper.sh   (LINES=..., CORPUS=access.log to reuse one)
#   CULPRIT_BIN=a:b compares two builds, alternating (a is "culprit ship", b
#   "culprit ship(b)"); METRICS=addr moves the metrics listener;
#   CPUPROFILE=DIR writes a CPU profile per culprit round.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
lines=${LINES:-2000000}
work=${WORK:-/tmp/culprit-bench-ship}
broker=127.0.0.1:19092
metrics=${METRICS:-127.0.0.1:18602}
mkdir -p "$work"

./scripts/kafka.sh up >/dev/null
IFS=: read -r bin bin_b <<<"${CULPRIT_BIN:-bin/culprit}"
[ -x "$bin" ] || go build -o "$bin" ./cmd/culprit
command -v kcat >/dev/null || { echo "kcat missing (scripts/deps.sh)" >&2; exit 1; }

# The corpus: real nginx lines, repeated to size.
src=${CORPUS:-$work/corpus/access.log}
if [ ! -s "$src" ]; then
  DURATION=${DURATION:-10s} ./scripts/corpus/gen.sh "$work/corpus" >&2
fi
file=$work/bench.log
if [ ! -s "$file" ] || [ "$(wc -l <"$file")" -ne "$lines" ]; then
  : >"$file.tmp"
  while [ "$(wc -l <"$file.tmp")" -lt "$lines" ]; do cat "$src" >>"$file.tmp"; done
  head -n "$lines" "$file.tmp" >"$file"
  rm -f "$file.tmp"
fi
bytes=$(stat -c %s "$file")

# topic_end TOPIC: sum of the end offsets of its partitions.
topic_end() {
  local args=() p
  for p in 0 1 2 3 4 5; do args+=(-t "$1:$p:-1"); done
  kcat -Q -b "$broker" "${args[@]}" 2>/dev/null | awk '{s += $4} END {print s + 0}'
}

# measure NAME PID TOPIC: waits until TOPIC holds all lines, prints a row.
measure() {
  local name=$1 pid=$2 topic=$3 t0=$4 n=0
  local deadline=$((SECONDS + 300))
  while :; do
    n=$(topic_end "$topic")
    [ "$n" -ge "$lines" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then echo "$name exited early" >&2; return 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "$name: only $n of $lines lines after 300 s" >&2; break; fi
    sleep 0.1
  done
  local t1; t1=$(date +%s.%N)
  local tck; tck=$(getconf CLK_TCK)
  local cpu; cpu=$(awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$pid/stat")
  local rss; rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  awk -v name="$name" -v n="$n" -v b="$bytes" -v l="$lines" -v t0="$t0" -v t1="$t1" -v cpu="$cpu" -v rss="$rss" 'BEGIN {
    s = t1 - t0
    printf "%-22s %10.0f %8.1f %12.2f %10.1f %9d\n", name, l / s, b / s / 1e6, cpu / (l / 1e6), rss / 1024, n
  }'
}

codec=${COMPRESSION:-snappy}
rounds=${ROUNDS:-3}
echo "file: $file ($lines lines, $((bytes / 1000000)) MB); broker $broker; acks=all, $codec; $rounds rounds, alternating"
printf "%-22s %10s %8s %12s %10s %9s\n" shipper "lines/s" "MB/s" "CPU s/Mline" "peakRSS MB" "in Kafka"

# run_culprit BIN NAME ROWS: one culprit ship run on a fresh topic and registry.
run_culprit() {
  local cbin=$1 name=$2 rows=$3
  local topic=bench.ship.culprit.$(date +%s%N)
  rm -rf "$work/culprit-state"
  cat >"$work/ship.yaml" <<EOC
host: bench
registry: $work/culprit-state/registry.json
metrics: $metrics
kafka:
  brokers: [$broker]
  topic: $topic
  compression: $codec
  acks: all
${KAFKA_EXTRA:-}
sources:
  - name: access
    kind: nginx_access
    paths: [$file]
EOC
  # Create the topic first so neither shipper pays for auto-creation.
  echo warmup | kcat -P -b "$broker" -t "$topic" -k x 2>/dev/null
  local t0; t0=$(date +%s.%N)
  local prof=()
  [ -z "${CPUPROFILE:-}" ] || { mkdir -p "$CPUPROFILE"; prof=(--cpuprofile "$CPUPROFILE/$(basename "$rows").$r.pprof"); }
  "$cbin" ship --config "$work/ship.yaml" "${prof[@]}" 2>"$work/culprit.log" &
  local pid=$!
  lines=$((lines + 1)) measure "$name" "$pid" "$topic" "$t0" | tee -a "$rows" || true
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

# run_rsyslog ROUND: a private rsyslogd, imfile -> omkafka, own work dir.
run_rsyslog() {
  local topic=bench.ship.rsyslog.$(date +%s%N)
  local rw=$work/rsyslog
  rm -rf "$rw"; mkdir -p "$rw/work"
  cat >"$rw/rsyslog.conf" <<EOC
global(workDirectory="$rw/work" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omkafka")
template(name="raw" type="string" string="%msg%")
input(type="imfile" file="$file" tag="access" ruleset="kafka" addMetadata="off")
ruleset(name="kafka" queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="4096") {
  action(type="omkafka" broker=["$broker"] topic="$topic" template="raw"
         confParam=["compression.codec=$codec", "request.required.acks=-1", "queue.buffering.max.ms=20",
                    "batch.num.messages=10000", "queue.buffering.max.messages=200000"])
}
EOC
  echo warmup | kcat -P -b "$broker" -t "$topic" -k x 2>/dev/null
  local t0; t0=$(date +%s.%N)
  rsyslogd -n -f "$rw/rsyslog.conf" -i "$rw/rsyslogd.pid" 2>"$rw/rsyslog.log" &
  local pid=$!
  lines=$((lines + 1)) measure "rsyslog imfile+omkafka" "$pid" "$topic" "$t0" | tee -a "$work/rows.rsyslog" || true
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

rm -f "$work/rows.culprit" "$work/rows.culprit-b" "$work/rows.rsyslog"
for ((r = 1; r <= rounds; r++)); do
  run_culprit "$bin" "culprit ship" "$work/rows.culprit"
  [ -z "$bin_b" ] || run_culprit "$bin_b" "culprit ship(b)" "$work/rows.culprit-b"
  [ -n "${SKIP_RSYSLOG:-}" ] || run_rsyslog
done

# Medians per column.
echo "-- median of $rounds rounds ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg))"
for f in "$work/rows.culprit" "$work/rows.culprit-b" "$work/rows.rsyslog"; do
  [ -s "$f" ] || continue
  for col in 3 4 5 6; do sort -g -k"$col","$col" "$f" | awk -v c="$col" '{v[NR] = $c} END {printf "%s ", v[int((NR + 1) / 2)]}'; done |
    awk -v name="$(head -1 "$f" | sed 's/  .*//')" '{printf "%-22s %10.0f %8.1f %12.2f %10.1f\n", name, $1, $2, $3, $4}'
done
echo "targets (issue 4): culprit >= 2x rsyslog lines/s at <= its CPU per line, >= 300 k lines/s, RSS < 50 MB"
