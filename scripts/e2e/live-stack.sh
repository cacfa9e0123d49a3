#!/usr/bin/env bash
# scripts/e2e/live-stack.sh up|down|status: the compose demo without Docker,
# on this machine. On top of scripts/stack's Kafka and ClickHouse it starts
# the flaky upstream (deploy/compose/flaky, on 127.0.0.1:18871), nginx in
# front of it (127.0.0.1:18870), a load loop, culprit ship, culprit analyze
# and culprit serve (http://127.0.0.1:18800), all from the repository's files,
# with state and logs under .stack/live. An incident shows in the UI within
# about two minutes. `down` stops what `up` started, by the pids it wrote.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/.stack/live
bin=$root/bin/culprit
nginx_port=18870
app_port=18871
ui_port=18800
ch=127.0.0.1:19000
brokers=127.0.0.1:19092
db=${CULPRIT_LIVE_DATABASE:-culprit}

stop_all() {
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    # Each piece runs in its own process group (setsid): end the group.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

spawn() { # name command...
  local name=$1; shift
  setsid "$@" >"$dir/$name.out" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

up() {
  "$root/scripts/stack" up
  mkdir -p "$dir/logs" "$dir/tmp"
  stop_all
  (cd "$root" && go build -o "$bin" ./cmd/culprit)
  "$bin" migrate --addr "$ch" --database "$db" >/dev/null
  local fmt
  fmt=$(sed -n "s/.*log_format culprit '\(.*\)'$/\1/p; s/^ *'\(.*\)'[;]*$/\1/p" "$root/deploy/compose/nginx/nginx.conf" | tr -d '\n')
  sed -e "s#/var/log/proxy#$dir/logs#g" -e "s#server upstream:8000;#server 127.0.0.1:$app_port;#" \
      -e "s#listen 80;#listen 127.0.0.1:$nginx_port;#" -e "s#pid /tmp/nginx.pid;#pid $dir/nginx.pid.nginx;#" \
      -e "s#^http {#http {\n    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;#" \
      "$root/deploy/compose/nginx/nginx.conf" >"$dir/nginx.conf"
  cat >"$dir/ship.yaml" <<YAML
host: live-proxy
registry: $dir/ship-registry.json
kafka:
  brokers: ["$brokers"]
  topic: culprit.live.lines
sources:
  - paths: ["$dir/logs/access.log"]
    kind: nginx_access
    log_format: '$fmt'
  - paths: ["$dir/logs/error.log"]
    kind: nginx_error
    tz: UTC
  - paths: ["$dir/logs/app.log"]
    kind: auto
    tz: UTC
    multiline: {}
YAML
  cat >"$dir/analyze.yaml" <<YAML
kafka:
  brokers: ["$brokers"]
  topic: culprit.live.lines
  group: culprit-live-analyzer
clickhouse:
  addr: $ch
  database: $db
correlate:
  enabled: true
  topic: culprit.live.events
  group: culprit-live-correlator
YAML
  # analyze's consumer groups get no partitions of a topic that does not
  # exist when they join: make both topics first (a metadata request for a
  # named topic auto-creates it on the stack's broker).
  for topic in culprit.live.lines culprit.live.events; do
    kcat -b "$brokers" -L -X allow.auto.create.topics=true -t "$topic" >/dev/null
    for _ in $(seq 1 50); do
      kcat -b "$brokers" -L -t "$topic" 2>/dev/null | grep -q "with [1-9][0-9]* partitions" && break
      sleep 0.1
    done
  done
  spawn upstream env FLAKY_UP="${FLAKY_UP:-90}" FLAKY_DOWN="${FLAKY_DOWN:-15}" FLAKY_PORT=$app_port \
    FLAKY_LOG="$dir/logs/app.log" sh -c "sed 's#/app/app.py#$root/deploy/compose/flaky/app.py#' '$root/deploy/compose/flaky/run.sh' | sh"
  spawn nginx nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
  spawn load sh -c "while true; do curl -s -o /dev/null http://127.0.0.1:$nginx_port/api/orders; sleep 0.1; done"
  spawn analyze "$bin" analyze --config "$dir/analyze.yaml"
  spawn ship "$bin" ship --config "$dir/ship.yaml"
  spawn serve "$bin" serve --addr "127.0.0.1:$ui_port" --clickhouse "$ch" --database "$db" --user readonly
  echo "live: nginx http://127.0.0.1:$nginx_port, UI http://127.0.0.1:$ui_port; logs and output in $dir" >&2
}

status() {
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || { echo "live: not running"; return 0; }
    name=$(basename "$f" .pid)
    if kill -0 "$(cat "$f")" 2>/dev/null; then echo "live: $name up (pid $(cat "$f"))"; else echo "live: $name DOWN (see $dir/$name.out)"; fi
  done
}

case "${1:-status}" in
  up) up ;;
  down) stop_all; echo "live: stopped" >&2 ;;
  status) status ;;
  *) echo "usage: scripts/e2e/live-stack.sh up|down|status" >&2; exit 2 ;;
esac
