# Shared helpers for scripts/scenarios/*/run.sh. Source it after setting NAME.
# Every scenario works in /tmp/scenarios/$NAME (scratch, recreated each run) and
# copies what the real software wrote to testdata/scenarios/$NAME at the end.
set -euo pipefail

COMMON="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$COMMON/../../.." && pwd)"
WORK="/tmp/scenarios/$NAME"
# SCN_OUT_ROOT: capture somewhere else (a reproducibility check that leaves testdata alone).
OUT="${SCN_OUT_ROOT:-$REPO/testdata/scenarios}/$NAME"
NPM_DIR="/tmp/scenarios/npm"
# Debian's python, not a pyenv shim: gunicorn and flask come from Debian.
PY=/usr/bin/python3
LOG_FORMAT="$(cat "$COMMON/log_format.conf")"
# The log_format string alone (what truth.json records and what a user passes to culprit).
LOG_FORMAT_STRING="$($PY -c 'import sys,re; s=open(sys.argv[1]).read(); print(re.search(r"log_format culprit \x27(.*)\x27;", s, re.S).group(1))' "$COMMON/log_format.conf")"

PIDS=()
CLEANUPS=()

log() { echo "[$NAME $(date -u +%H:%M:%S.%3N)] $*" >&2; }

# Records a ground-truth event (what we did, when) in $WORK/timeline.jsonl; truth.py copies it.
mark() {
  local ts; ts="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
  printf '{"ts":"%s","event":%s}\n' "$ts" "$($PY -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$*")" >>"$WORK/timeline.jsonl"
  log "MARK $*"
}

track() { PIDS+=("$1"); }
on_exit() { CLEANUPS+=("$1"); }

cleanup() {
  local i
  for ((i=${#CLEANUPS[@]}-1; i>=0; i--)); do eval "${CLEANUPS[$i]}" || true; done
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  sleep 0.3
  for p in "${PIDS[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
# Killed or interrupted: exit so the EXIT trap cleans up what this run started.
trap "exit 143" TERM
trap "exit 130" INT

prepare() {
  rm -rf "$WORK"
  mkdir -p "$WORK"
  : >"$WORK/timeline.jsonl"
}

# wait_port PORT [SECONDS]: waits until something accepts on 127.0.0.1:PORT.
wait_port() {
  local port=$1 n=$(( ${2:-10} * 10 ))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    n=$((n-1)); [ $n -gt 0 ] || { log "port $port never opened"; return 1; }
    sleep 0.1
  done
}

# port_free PORT: fails when something already listens (a leftover from an earlier run).
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then log "port $1 busy"; return 1; fi
}

# nginx_start: runs a private nginx with $WORK/nginx.conf (written by the scenario).
nginx_start() {
  nginx -t -q -p "$WORK" -c "$WORK/nginx.conf" -g "pid $WORK/nginx.pid;" 2>>"$WORK/nginx-t.err"
  ${NGINX_ENV:-} nginx -p "$WORK" -c "$WORK/nginx.conf" -g "daemon off; pid $WORK/nginx.pid;" &
  NGINX_PID=$!
  track "$NGINX_PID"
}

nginx_stop() {
  if [ -n "${NGINX_PID:-}" ]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
}

# The http block's common head: the shared log format and the logs.
nginx_head() {
  cat <<CONF
worker_processes 1;
error_log $WORK/error.log info;
events { worker_connections 256; }
http {
    $LOG_FORMAT
    access_log $WORK/access.log culprit;
    client_body_temp_path $WORK/tmp;
    proxy_temp_path $WORK/tmp;
    fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp;
    scgi_temp_path $WORK/tmp;
CONF
  mkdir -p "$WORK/tmp"
}

# load ARGS...: the steady background load (common/load.py), tracked.
load_start() {
  $PY "$COMMON/load.py" "$@" >>"$WORK/load.out" 2>&1 &
  LOAD_PID=$!
  track "$LOAD_PID"
}
load_wait() { wait "$LOAD_PID" || true; }

# finish ARGS...: copies logs to testdata and computes truth.json (common/truth.py).
finish() {
  rm -rf "$OUT"
  mkdir -p "$OUT"
  $PY "$COMMON/truth.py" --work "$WORK" --out "$OUT" --log-format "$LOG_FORMAT_STRING" "$@"
}

# npm_deps: PM2 and Express, installed locally (never globally) and pinned.
npm_deps() {
  if [ ! -d "$NPM_DIR/node_modules/pm2" ] || [ ! -d "$NPM_DIR/node_modules/express" ]; then
    mkdir -p "$NPM_DIR"
    (cd "$NPM_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund pm2@7.0.4 express@5.3.0 >/dev/null)
  fi
}
