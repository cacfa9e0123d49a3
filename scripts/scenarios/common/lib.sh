# Shared helpers for scripts/scenarios/*/run.sh. Source it after setting NAME.
# Every scenario works in /tmp/scenarios/$NAME (scratch, recreated each run) and
# copies what the real software wrote to testdata/scenarios/$NAME at the end.
set -euo pipefail

COMMON="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$COMMON/../../.." && pwd)"
# SCN_WORK_ROOT: scratch somewhere else (another set of scenarios, another helper's runs).
WORK="${SCN_WORK_ROOT:-/tmp/scenarios}/$NAME"
# SCN_OUT_ROOT: capture somewhere else (a reproducibility check that leaves testdata alone:
# SCN_OUT_ROOT=/tmp/x run.sh, then SCENARIO_DIR=/tmp/x go test ./cmd/culprit -run TestExplain_Scenarios).
OUT="${SCN_OUT_ROOT:-$REPO/testdata/scenarios}/$NAME"
NPM_DIR="/tmp/scenarios/npm"
# Debian's python, not a pyenv shim: gunicorn and flask come from Debian.
PY=/usr/bin/python3
LOG_FORMAT="$(cat "$COMMON/log_format.conf")"
# The log_format string alone (what truth.json records and what a user passes to culprit).
LOG_FORMAT_STRING="$($PY -c 'import sys,re; s=open(sys.argv[1]).read(); print(re.search(r"log_format culprit \x27(.*)\x27;", s, re.S).group(1))' "$COMMON/log_format.conf")"

PIDS=()
CLEANUPS=()
STOPS=()

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

# port_free PORT...: fails when something already listens (a leftover from an earlier run).
port_free() {
  local p
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then log "port $p busy"; return 1; fi
  done
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

# ---- Starting and stopping what a scenario runs -------------------------------
# The run.sh files tell their incident; what every one of them does the same way
# (starting a server, waiting for its port, stopping it in order) lives here.

# spawn LOG CMD...: starts CMD in the background, its stdout and stderr appended to
# $WORK/LOG, tracked (killed on exit); its pid in SPAWNED.
spawn() {
  local out=$1; shift
  "$@" >>"$WORK/$out" 2>&1 &
  SPAWNED=$!
  track "$SPAWNED"
}

# on_stop CMD: how to stop something gracefully at the end of the story, run by
# wind_down (last registered first) while the logs are still being written;
# cleanup stays the safety net for interrupted runs.
on_stop() { STOPS+=("$1"); }

# wind_down: every story ends the same way: the steady load runs out, the last
# requests are logged, nginx stops, then the servers stop in reverse order.
wind_down() {
  load_wait
  mark "load ended"
  sleep 1
  nginx_stop
  local i
  for ((i=${#STOPS[@]}-1; i>=0; i--)); do eval "${STOPS[$i]}" || true; done
  STOPS=()
}

# nginx_conf: writes $WORK/nginx.conf: nginx_head, the http block's content from
# stdin (upstreams, servers), and the closing brace.
nginx_conf() {
  { nginx_head; cat; echo "}"; } >"$WORK/nginx.conf"
}

# server_block SERVER_NAME DIRECTIVE...: prints the common case, one server on
# 127.0.0.1:$NGX whose one location (/) has the DIRECTIVEs (proxy_pass, timeouts).
server_block() {
  local name=$1 d; shift
  printf '    server {\n        listen 127.0.0.1:%s;\n        server_name %s;\n' "$NGX" "$name"
  printf '        location / {\n'
  for d in "$@"; do printf '            %s;\n' "$d"; done
  printf '        }\n    }\n'
}

# nginx_server SERVER_NAME DIRECTIVE...: nginx.conf with server_block alone.
nginx_server() { server_block "$@" | nginx_conf; }

# nginx_proxy SERVER_NAME TARGET [DIRECTIVE...]: nginx.conf with one server that
# proxies every path to TARGET (http://127.0.0.1:PORT), with extra DIRECTIVEs.
nginx_proxy() { nginx_server "$1" "proxy_pass $2" "${@:3}"; }

# nginx_group GROUP SERVER_NAME [DIRECTIVE...] < servers: nginx.conf with one
# upstream block GROUP (its server lines on stdin) and proxy_server to it.
nginx_group() {
  local group=$1; shift
  {
    printf '    upstream %s {\n' "$group"
    sed 's/^/        /'
    printf '    }\n'
    server_block "$1" "proxy_pass http://$group" "${@:2}"
  } | nginx_conf
}

# nginx_php SERVER_NAME [DIRECTIVE...]: one server on 127.0.0.1:$NGX serving
# $WORK/www, *.php through php-fpm's socket $SOCK (phpfpm_start), with extra
# DIRECTIVEs in the PHP location.
nginx_php() {
  local name=$1 d; shift
  {
    printf '    server {\n        listen 127.0.0.1:%s;\n        server_name %s;\n        root %s;\n' "$NGX" "$name" "$WORK/www"
    printf '        location ~ \\.php$ {\n            include /etc/nginx/fastcgi_params;\n'
    printf '            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n'
    printf '            fastcgi_pass unix:%s;\n' "$SOCK"
    for d in "$@"; do printf '            %s;\n' "$d"; done
    printf '        }\n    }\n'
  } | nginx_conf
}

# nginx_up: starts nginx and waits until it listens on 127.0.0.1:$NGX.
nginx_up() {
  nginx_start
  wait_port "$NGX"
}

# load_run ARGS...: load.py in the foreground: a burst on top of the steady load.
load_run() { $PY "$COMMON/load.py" "$@" >>"$WORK/load.out" 2>&1; }

# burst WHAT LOAD_ARGS...: the burst that sets the failure off (load.py through
# nginx, in the foreground), marked when it begins and when it ends.
burst() {
  local what=$1; shift
  mark "$what"
  load_run --base "http://127.0.0.1:$NGX" "$@"
  mark "$what: ended"
}

# http_get PATH [UA]: one request through nginx; prints the status and keeps it
# in $WORK/trigger.out.
http_get() {
  curl -s -o /dev/null -w '%{http_code}\n' -A "${2:-culprit-scenario-trigger/1.0}" \
    "http://127.0.0.1:$NGX$1" >>"$WORK/trigger.out" || true
  tail -1 "$WORK/trigger.out"
}

# trigger PATH WHAT: the request that sets the failure off, marked before and
# after (with the status it got).
trigger() {
  mark "trigger: GET $1 ($2)"
  local code; code=$(http_get "$1")
  mark "trigger request ended: $code"
}

# backend_start PORT LOG [SLOW_FLAG]: slow-upstream's Python backend (access
# lines on stderr; /search takes 3.5 s while the file SLOW_FLAG exists);
# pid in BACKEND_PID. Waits until it listens.
backend_start() {
  spawn "$2" $PY -u "$COMMON/../slow-upstream/backend.py" --port "$1" --slow-flag "${3:-$WORK/never}"
  BACKEND_PID=$SPAWNED
  wait_port "$1"
}

# supervise TAG PORT LOG CMD...: runs CMD (with PORT set) under the restart loop
# many hosts really run (common/supervise.sh: restart 3 s after every exit),
# output appended to $WORK/LOG; the app's current pid is in $WORK/TAG.pid.
# Waits until it listens; stopped by wind_down.
supervise() {
  local tag=$1 port=$2 out=$3; shift 3
  PORT=$port spawn "$out" bash "$COMMON/supervise.sh" "$WORK/$tag.pid" "$@"
  on_exit "kill \$(cat '$WORK/$tag.pid') 2>/dev/null"
  on_stop "kill $SPAWNED; wait $SPAWNED 2>/dev/null; kill \$(cat '$WORK/$tag.pid') 2>/dev/null"
  wait_port "$port" 20
}

# memcg NAME MB: a fresh cgroup v1 memory cgroup /NAME limited to MB MiB (path in
# CG), removed on exit. Call it before starting what runs in it, so that what
# runs in it is stopped first.
memcg() {
  CG=/sys/fs/cgroup/memory/$1
  # A stale cgroup from an interrupted run holds no task once its processes are gone.
  [ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true
  mkdir -p "$CG"
  echo $(($2 << 20)) >"$CG/memory.limit_in_bytes"
  on_exit "sleep 0.5; rmdir $CG"
}

# in_memcg CMD...: runs CMD inside the cgroup $CG: it and every process it forks
# are charged to it (as under a systemd unit with MemoryLimit).
in_memcg() { bash -c 'echo $$ >"$0/cgroup.procs"; exec "$@"' "$CG" "$@"; }

# gunicorn_start PORT ARG...: Debian's gunicorn serving app:app from $WORK/app.py
# on 127.0.0.1:PORT, error log $WORK/gunicorn.log; ARGs are what the story sets
# (workers, timeout, access log). $WRAP prefixes the command (in_memcg).
gunicorn_start() {
  local port=$1; shift
  spawn gunicorn.out ${WRAP:-} /usr/bin/gunicorn --chdir "$WORK" --bind "127.0.0.1:$port" "$@" \
    --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" app:app
  on_exit "kill \$(cat '$WORK/gunicorn.pid' 2>/dev/null) 2>/dev/null"
  on_stop "kill -TERM \$(cat '$WORK/gunicorn.pid'); sleep 1.5"
  wait_port "$port" 15
}
gunicorn_version() { /usr/bin/gunicorn --version | awk '{print $3}' | tr -d ')'; }

# uwsgi_start PORT ARG...: Debian's uWSGI (python3 plugin, master) serving `app`
# from $WORK/app.py over the uwsgi protocol on 127.0.0.1:PORT, log
# $WORK/uwsgi.log; ARGs are what the story sets (processes, harakiri, listen).
uwsgi_start() {
  local port=$1; shift
  spawn uwsgi.out uwsgi --plugin python3 --master "$@" --socket "127.0.0.1:$port" \
    --chdir "$WORK" --wsgi-file "$WORK/app.py" --callable app --pidfile "$WORK/uwsgi.pid" \
    --logto "$WORK/uwsgi.log" --die-on-term
  on_stop "kill -TERM \$(cat '$WORK/uwsgi.pid'); sleep 1"
  wait_port "$port" 15
}

# phpfpm_start: Debian's php-fpm with one pool `shop` on the unix socket $SOCK
# ($WORK/php-fpm.sock), error log $WORK/php-fpm.log (local time, no zone); the
# pool's settings (pm, limits, access log) come on stdin. Waits for the socket.
# -R: the scenario runs as root and so does the pool (private, loopback only).
phpfpm_start() {
  SOCK="$WORK/php-fpm.sock"
  {
    cat <<CONF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
log_level = notice
daemonize = no

[shop]
listen = $SOCK
; nginx workers run as nobody
listen.mode = 0666
CONF
    cat
  } >"$WORK/php-fpm.conf"
  spawn php-fpm.out php-fpm8.2 -R -y "$WORK/php-fpm.conf" -F
  on_stop "kill -QUIT $SPAWNED; wait $SPAWNED 2>/dev/null"
  local _
  for _ in $(seq 50); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
  log "php-fpm socket $SOCK never appeared"; return 1
}
phpfpm_version() { php-fpm8.2 -v | head -1 | awk '{print $2}'; }

# pm2_setup: PM2 (npm_deps) with a private PM2_HOME in $WORK, killed on exit.
pm2_setup() {
  npm_deps
  PM2="$NPM_DIR/node_modules/.bin/pm2"
  export PM2_HOME="$WORK/pm2home"
  on_exit "$PM2 kill >/dev/null 2>&1"
}
pm2_version() { node -p "require('$NPM_DIR/node_modules/pm2/package.json').version"; }

# pm2_app NAME PORT WARM_MS [PROPERTY...]: $WORK/ecosystem.config.js for one
# fork-mode app NAME running $WORK/app.js (time: true, autorestart), its output in
# $WORK/NAME-out.log and $WORK/NAME-error.log; PROPERTYs are what the story sets
# (JS, e.g. "restart_delay: 1000").
pm2_app() {
  local name=$1 port=$2 warm=$3 p; shift 3
  {
    echo "module.exports = { apps: [{"
    echo "  name: '$name',"
    echo "  script: '$WORK/app.js',"
    for p in "$@"; do echo "  $p,"; done
    echo "  env: { PORT: '$port', WARM_MS: '$warm' },"
    echo "  time: true,"
    echo "  autorestart: true,"
    echo "  out_file: '$WORK/$name-out.log',"
    echo "  error_file: '$WORK/$name-error.log',"
    echo "}] };"
  } >"$WORK/ecosystem.config.js"
  PM2_PORT=$port
}

# pm2_start: `pm2 start` of the ecosystem ($WRAP prefixes it: in_memcg, faketime),
# waits until the app listens. wind_down kills PM2 and keeps its daemon log as
# $WORK/pm2.log.
pm2_start() {
  ${WRAP:-} "$PM2" start "$WORK/ecosystem.config.js" >>"$WORK/pm2-cli.out" 2>&1
  on_stop "\"\$PM2\" kill >/dev/null 2>&1; cp \"\$PM2_HOME/pm2.log\" \"\$WORK/pm2.log\""
  wait_port "$PM2_PORT" 15
}
