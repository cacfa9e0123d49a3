#!/usr/bin/env bash
# ship -> Kafka -> analyze -> ClickHouse for access logs whose source gives
# no log_format: the shipper infers it and the requests reach ClickHouse.
#
#   eval "$(scripts/stack env)"; scripts/reallogs/access-formats/e2e.sh [BIN] [FORMAT...]
#
# BIN defaults to a fresh build; FORMAT names logs of
# parser/testdata/access-formats (default: logfmt ingress ltsv). Uses the
# running stack's Kafka (127.0.0.1:19092) and ClickHouse (127.0.0.1:19000),
# a database infer_e2e (dropped at the end) and one topic per run; prints
# requests and unparsed counts per format and fails when a format leaves
# lines its true format reads unparsed. Processes it starts are stopped by pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
bin=${1:-}
[ $# -gt 0 ] && shift
formats=${*:-logfmt ingress ltsv}
if [ -z "$bin" ]; then
	bin=/tmp/infer/culprit-e2e
	(cd "$root" && go build -o "$bin" ./cmd/culprit)
fi
ch="clickhouse-client --port 19000"
db=infer_e2e
fail=0
for name in $formats; do
	d=$(mktemp -d /tmp/infer/e2e.XXXXXX)
	mkdir -p "$d/logs"
	cp "$root/parser/testdata/access-formats/$name.log" "$d/logs/access.log"
	want=$("$bin" parse --source nginx_access --log-format "$(cat "$root/parser/testdata/access-formats/$name.format")" --stats \
		<"$d/logs/access.log" | awk '$2 == "request" {print $4}')
	lines=$(wc -l <"$d/logs/access.log")
	topic=culprit.infer.e2e.$name.$$
	"$bin" migrate --addr 127.0.0.1:19000 --database $db >/dev/null 2>&1
	$ch -q "TRUNCATE TABLE $db.requests"
	$ch -q "TRUNCATE TABLE $db.unparsed"
	kcat -b 127.0.0.1:19092 -L -X allow.auto.create.topics=true -t "$topic" >/dev/null
	sleep 1
	cat >"$d/ship.yaml" <<YAML
host: e2e-proxy
registry: $d/registry.json
kafka: {brokers: ["127.0.0.1:19092"], topic: $topic}
sources:
  - paths: ["$d/logs/access.log"]
    kind: nginx_access
YAML
	cat >"$d/analyze.yaml" <<YAML
kafka: {brokers: ["127.0.0.1:19092"], topic: $topic, group: infer-e2e-$$-$name}
clickhouse: {addr: 127.0.0.1:19000, database: $db}
YAML
	"$bin" analyze --config "$d/analyze.yaml" >"$d/analyze.out" 2>&1 &
	apid=$!
	"$bin" ship --config "$d/ship.yaml" >"$d/ship.out" 2>&1 &
	spid=$!
	for _ in $(seq 60); do
		n=$($ch -q "SELECT (SELECT count() FROM $db.requests) + (SELECT count() FROM $db.unparsed)")
		[ "$n" -ge "$lines" ] && break
		sleep 0.5
	done
	kill "$spid" "$apid"
	wait "$spid" "$apid" 2>/dev/null || true
	got=$($ch -q "SELECT count() FROM $db.requests")
	unparsed=$($ch -q "SELECT count() FROM $db.unparsed")
	echo "$name: $lines lines, $got requests in ClickHouse, $unparsed unparsed (the true format reads $want)"
	[ "$got" -ge "$want" ] || fail=1
	rm -rf "$d"
done
$ch -q "DROP DATABASE IF EXISTS $db"
exit $fail
