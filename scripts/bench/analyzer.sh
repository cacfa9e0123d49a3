#!/usr/bin/env bash
# scripts/bench/analyzer.sh [LINES]: lines/s from Kafka into ClickHouse through
# `culprit analyze`, with Kafka, ClickHouse and the analyzer on this machine.
# ANALYZERS=N runs N analyzer processes in one consumer group (default 1).
# CULPRIT=path benchmarks that binary instead of building one (to alternate
# old and new builds in one session); PORT=n is the first metrics port
# (default 18701); PPROF=file also writes a CPU profile of the first analyzer
# over the run and a heap profile halfway ($PPROF.heap).
# Loads LINES (default 1,000,000) real nginx access lines (the pm2-oom
# scenario capture, repeated) into a fresh 6-partition topic with kcat, then
# times one analyzer draining it into a fresh database. Reports lines/s,
# rows per insert, analyzer CPU seconds per million lines and peak RSS.
# Needs scripts/stack up (Kafka on 19092, ClickHouse on 19000).
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-1000000}
analyzers=${ANALYZERS:-1}
apids=()
brokers=${CULPRIT_TEST_KAFKA:-127.0.0.1:19092}
ch=${CULPRIT_TEST_CLICKHOUSE:-127.0.0.1:19000}
chport=${ch##*:}
work=$(mktemp -d /tmp/culprit-bench-analyzer.XXXXXX)
topic=culprit-bench-$$-$RANDOM
db=culprit_bench_$$
cleanup() {
  [ ${#apids[@]} -gt 0 ] && kill "${apids[@]}" 2>/dev/null && wait "${apids[@]}" 2>/dev/null || true
  clickhouse-client --port "$chport" -q "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=${PORT:-18701}
if [ -n "${CULPRIT:-}" ]; then
  cp "$CULPRIT" "$work/culprit"
else
  go build -o "$work/culprit" ./cmd/culprit
fi
pprof=()
[ -n "${PPROF:-}" ] && pprof=(--pprof)
fmt=$(python3 -c "import json;print(json.load(open('testdata/scenarios/pm2-oom/truth.json'))['log_format'])")
src=testdata/scenarios/pm2-oom/access.log
python3 -c 'import itertools, sys
src = open(sys.argv[1]).read().splitlines(keepends=True)
sys.stdout.writelines(itertools.islice(itertools.cycle(src), int(sys.argv[2])))' "$src" "$lines" >"$work/lines"

"$work/culprit" migrate --addr "$ch" --database "$db" >/dev/null
t0=$(date +%s.%N)
# kcat auto-creates the topic with the broker's default partition count.
kcat -P -b "$brokers" -t "$topic" -z lz4 -X linger.ms=20 -X batch.num.messages=10000 \
  -H kind=nginx_access -H "log_format=$fmt" -H tz=UTC -H label.service=shop <"$work/lines"
t1=$(date +%s.%N)
parts=$(kcat -b "$brokers" -L -t "$topic" | grep -c 'partition ' || true)

cpu_of() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }
chpid=$(cat .stack/clickhouse/clickhouse.pid 2>/dev/null || true)
kpid=$(cat .stack/kafka/kafka.pid 2>/dev/null || true)
ch0=$(cpu_of "$chpid"); k0=$(cpu_of "$kpid")
start=$(date +%s.%N)
# ANALYZERS processes in one consumer group (the scale-out path), each with
# its own metrics port.
for ((a = 0; a < analyzers; a++)); do
  cat >"$work/analyze-$a.yaml" <<EOF
kafka:
  brokers: [$brokers]
  topic: $topic
  group: bench-$topic
clickhouse:
  addr: $ch
  database: $db
listen: 127.0.0.1:$((port + a))
EOF
  "$work/culprit" analyze --config "$work/analyze-$a.yaml" "${pprof[@]}" 2>"$work/analyze-$a.log" &
  apids+=($!)
done
sum_metric() {
  local total=0 v a
  for ((a = 0; a < analyzers; a++)); do
    v=$( (curl -fsS "http://127.0.0.1:$((port + a))/metrics" 2>/dev/null || true) | awk -v m="$1" '$1 == m {print $2}')
    total=$(python3 -c "print(${total} + ${v:-0})")
  done
  echo "$total"
}
if [ -n "${PPROF:-}" ]; then
  until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.05; done
  curl -fsS -o "$PPROF" "http://127.0.0.1:$port/debug/pprof/profile?seconds=${PPROF_SECONDS:-5}" &
fi
heap=${PPROF:+$PPROF.heap}
while :; do
  stored=$(sum_metric culprit_analyzer_records_stored_total)
  if [ -n "$heap" ] && [ "${stored%.*}" -ge $((lines / 2)) ]; then
    curl -fsS -o "$heap" "http://127.0.0.1:$port/debug/pprof/heap" || true
    heap=
  fi
  [ "${stored%.*}" -ge "$lines" ] && break
  for p in "${apids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "analyzer died:"; tail "$work"/analyze-*.log; exit 1; }
  done
  sleep 0.2
done
end=$(date +%s.%N)
ch1=$(cpu_of "$chpid"); k1=$(cpu_of "$kpid")
inserts=$(sum_metric culprit_clickhouse_rows_per_insert_count)
rsum=$(sum_metric culprit_clickhouse_rows_per_insert_sum)
chsec=$(sum_metric culprit_clickhouse_insert_seconds_total)
utime=0; stime=0; rss=0
for p in "${apids[@]}"; do
  read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat")
  utime=$((utime + u)); stime=$((stime + s))
  r=$(awk '/VmHWM/{print $2}' "/proc/$p/status"); [ "$r" -gt "$rss" ] && rss=$r
done
hz=$(getconf CLK_TCK)
kill "${apids[@]}"; wait "${apids[@]}" 2>/dev/null || true; apids=()
rows=$(clickhouse-client --port "$chport" -q "SELECT count() FROM $db.requests")
unparsed=$(clickhouse-client --port "$chport" -q "SELECT count() FROM $db.unparsed")
python3 - <<EOF
lines=$lines; secs=$end-$start; cpu=($utime+$stime)/$hz
print(f"machine: $(nproc) cores, Kafka + ClickHouse 18.16 + analyzer on the same box")
print(f"topic: {lines} lines in $parts partitions, produced by kcat in {$t1-$t0:.1f}s")
print(f"analyze: {lines} lines stored in {secs:.2f}s = {lines/secs:,.0f} lines/s")
print(f"rows: requests={$rows} unparsed={$unparsed}; {$inserts} inserts, {$rsum/max($inserts,1):,.0f} rows/insert; {$chsec:.1f}s inside INSERTs")
print(f"analyzers: $analyzers; CPU {cpu:.1f}s = {cpu/lines*1e6:.1f} CPU-s per million lines; peak RSS {$rss/1024:.0f} MiB (largest process)")
print(f"during the run: clickhouse-server used {($ch1-$ch0)/$hz:.1f} CPU-s, the Kafka broker {($k1-$k0)/$hz:.1f} CPU-s; load average $(cut -d' ' -f1-3 /proc/loadavg)")
EOF
