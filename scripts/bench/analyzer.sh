#!/usr/bin/env bash
# scripts/bench/analyzer.sh [LINES]: lines/s from Kafka into ClickHouse through
# `culprit analyze`, with Kafka, ClickHouse and the analyzer on this machine.
# Loads LINES (default 1,000,000) real nginx access lines (the pm2-oom
# scenario capture, repeated) into a fresh 6-partition topic with kcat, then
# times the analyzer draining it into a fresh database. Reports lines/s,
# rows per insert, analyzer CPU seconds per million lines (user+system from
# /proc: it depends little on what else runs) and peak RSS.
#
# ANALYZERS=N runs N analyzer processes in one consumer group (default 1).
# RUNS=N repeats the measurement and prints medians (default 1).
# BASE=binary alternates that build (e.g. one from `git worktree add`) with
# this tree's, run for run, so both see the same machine load.
# CULPRIT=binary measures that build instead of building this tree.
# PORT=n is the first metrics port (default 18701).
# BATCH_ROWS=n sets batch.max_rows (default: the analyzer's, 50 000).
# PPROF=file also writes a CPU profile of the first analyzer over the first
# run (PPROF_SECONDS, default 5) and a heap profile halfway ($PPROF.heap).
# Needs scripts/stack up (Kafka on 19092, ClickHouse on 19000).
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-1000000}
analyzers=${ANALYZERS:-1}
runs=${RUNS:-1}
port=${PORT:-18701}
apids=()
brokers=${CULPRIT_TEST_KAFKA:-127.0.0.1:19092}
ch=${CULPRIT_TEST_CLICKHOUSE:-127.0.0.1:19000}
chport=${ch##*:}
work=$(mktemp -d /tmp/culprit-bench-analyzer.XXXXXX)
dbs=()
cleanup() {
  [ ${#apids[@]} -gt 0 ] && kill "${apids[@]}" 2>/dev/null && wait "${apids[@]}" 2>/dev/null || true
  for db in "${dbs[@]}"; do
    clickhouse-client --port "$chport" -q "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${CULPRIT:-}" ]; then
  cp "$CULPRIT" "$work/new"
else
  go build -o "$work/new" ./cmd/culprit
fi
builds=(new)
if [ -n "${BASE:-}" ]; then
  cp "$BASE" "$work/base"
  builds=(base new)
fi
fmt=$(python3 -c "import json;print(json.load(open('testdata/scenarios/pm2-oom/truth.json'))['log_format'])")
src=testdata/scenarios/pm2-oom/access.log
python3 -c 'import itertools, sys
src = open(sys.argv[1]).read().splitlines(keepends=True)
sys.stdout.writelines(itertools.islice(itertools.cycle(src), int(sys.argv[2])))' "$src" "$lines" >"$work/lines"

cpu_of() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }
chpid=$(cat .stack/clickhouse/clickhouse.pid 2>/dev/null || true)
kpid=$(cat .stack/kafka/kafka.pid 2>/dev/null || true)
hz=$(getconf CLK_TCK)
sum_metric() {
  local total=0 v a
  for ((a = 0; a < analyzers; a++)); do
    v=$( (curl -fsS "http://127.0.0.1:$((port + a))/metrics" 2>/dev/null || true) | awk -v m="$1" '$1 == m {print $2}')
    total=$(python3 -c "print(${total} + ${v:-0})")
  done
  echo "$total"
}

# measure BUILD RUN: one drain of a fresh topic into a fresh database; appends
# a line of figures to $work/results.
measure() {
  local build=$1 run=$2 topic=culprit-bench-$$-$RANDOM db=culprit_bench_$$_$2_$1 pprof=() heap=
  dbs+=("$db")
  "$work/$build" migrate --addr "$ch" --database "$db" >/dev/null 2>"$work/migrate.log" ||
    { cat "$work/migrate.log"; exit 1; }
  local t0 t1 parts start end ch0 k0 ch1 k1 stored
  t0=$(date +%s.%N)
  # kcat auto-creates the topic with the broker's default partition count.
  kcat -P -b "$brokers" -t "$topic" -z lz4 -X linger.ms=20 -X batch.num.messages=10000 \
    -H kind=nginx_access -H "log_format=$fmt" -H tz=UTC -H label.service=shop <"$work/lines"
  t1=$(date +%s.%N)
  parts=$(kcat -b "$brokers" -L -t "$topic" | grep -c 'partition ' || true)
  if [ -n "${PPROF:-}" ] && [ "$run" = 1 ] && [ "$build" = new ]; then
    pprof=(--pprof)
    heap=$PPROF.heap
  fi
  ch0=$(cpu_of "$chpid"); k0=$(cpu_of "$kpid")
  start=$(date +%s.%N)
  # ANALYZERS processes in one consumer group (the scale-out path), each
  # with its own metrics port.
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
    if [ -n "${BATCH_ROWS:-}" ]; then
      printf 'batch:\n  max_rows: %d\n' "$BATCH_ROWS" >>"$work/analyze-$a.yaml"
    fi
    "$work/$build" analyze --config "$work/analyze-$a.yaml" "${pprof[@]}" 2>"$work/analyze-$a.log" &
    apids+=($!)
  done
  if [ ${#pprof[@]} -gt 0 ]; then
    until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.05; done
    curl -fsS -o "$PPROF" "http://127.0.0.1:$port/debug/pprof/profile?seconds=${PPROF_SECONDS:-5}" &
  fi
  while :; do
    stored=$(sum_metric culprit_analyzer_records_stored_total)
    [ "${stored%.*}" -ge "$lines" ] && break
    if [ -n "$heap" ] && [ "${stored%.*}" -ge $((lines / 2)) ]; then
      curl -fsS -o "$heap" "http://127.0.0.1:$port/debug/pprof/heap" || true
      heap=
    fi
    for p in "${apids[@]}"; do
      kill -0 "$p" 2>/dev/null || { echo "analyzer died:"; tail "$work"/analyze-*.log; exit 1; }
    done
    sleep 0.2
  done
  end=$(date +%s.%N)
  ch1=$(cpu_of "$chpid"); k1=$(cpu_of "$kpid")
  local inserts rsum chsec utime=0 stime=0 rss=0 u s r rows unparsed
  inserts=$(sum_metric culprit_clickhouse_rows_per_insert_count)
  rsum=$(sum_metric culprit_clickhouse_rows_per_insert_sum)
  chsec=$(sum_metric culprit_clickhouse_insert_seconds_total)
  for p in "${apids[@]}"; do
    read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat")
    utime=$((utime + u)); stime=$((stime + s))
    r=$(awk '/VmHWM/{print $2}' "/proc/$p/status"); [ "$r" -gt "$rss" ] && rss=$r
  done
  kill "${apids[@]}"; wait "${apids[@]}" 2>/dev/null || true; apids=()
  rows=$(clickhouse-client --port "$chport" -q "SELECT count() FROM $db.requests")
  unparsed=$(clickhouse-client --port "$chport" -q "SELECT count() FROM $db.unparsed")
  clickhouse-client --port "$chport" -q "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
  python3 - "$work/results" <<EOF
import json, sys
lines=$lines; secs=$end-$start; cpu=($utime+$stime)/$hz
r = dict(build="$build", run=$run, lps=lines/secs, cpu_per_m=cpu/lines*1e6, rss_mib=$rss/1024,
         ch_us_per_row=($ch1-$ch0)/$hz/lines*1e6, broker_cpu=($k1-$k0)/$hz, rows_per_insert=$rsum/max($inserts,1),
         secs=secs, insert_secs=$chsec, produce_secs=$t1-$t0, parts=$parts, rows=$rows, unparsed=$unparsed,
         load="$(cut -d' ' -f1-3 /proc/loadavg)")
print(f"{r['build']} run {r['run']}: {lines} lines ({r['rows']} requests, {r['unparsed']} unparsed) from {r['parts']} partitions "
      f"in {secs:.2f}s = {r['lps']:,.0f} lines/s; {r['rows_per_insert']:,.0f} rows/insert, {r['insert_secs']:.1f}s inside INSERTs; "
      f"analyzer {r['cpu_per_m']:.1f} CPU-s per M lines, peak RSS {r['rss_mib']:.0f} MiB; "
      f"ClickHouse {r['ch_us_per_row']:.1f} CPU-us per row, broker {r['broker_cpu']:.1f} CPU-s; load {r['load']}")
open(sys.argv[1], "a").write(json.dumps(r) + "\n")
EOF
}

for ((run = 1; run <= runs; run++)); do
  for b in "${builds[@]}"; do
    measure "$b" "$run"
  done
done
python3 - "$work/results" <<EOF
import json, statistics, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
print(f"machine: $(nproc) cores, Kafka + ClickHouse 18.16 + analyzer on the same box; $lines lines, analyzers: $analyzers")
for b in [b for b in ("base", "new") if any(r["build"] == b for r in rs)]:
    m = lambda k: statistics.median(r[k] for r in rs if r["build"] == b)
    n = sum(r["build"] == b for r in rs)
    print(f"{b}: median of {n}: {m('lps'):,.0f} lines/s, {m('cpu_per_m'):.1f} analyzer CPU-s per M lines, "
          f"peak RSS {m('rss_mib'):.0f} MiB, {m('rows_per_insert'):,.0f} rows/insert, ClickHouse {m('ch_us_per_row'):.1f} CPU-us per row")
EOF
