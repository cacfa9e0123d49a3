# Helpers for the "blind" scenarios (software culprit's rules were not written
# against: FastAPI/uvicorn, asyncpg, psycopg2, SQLAlchemy, PostgreSQL, Redis,
# ioredis, pino, winston, gevent, php-fpm ondemand, Go net/http).
# Source it from a scenario's run.sh AFTER common/lib.sh: it moves the scratch
# directory to /tmp/blind/$NAME and installs the pinned PyPI/npm packages into
# /tmp/blind (never globally). As with common/lib.sh, each run.sh tells its
# incident (what breaks, when, for how long); starting, stopping and waiting for
# PostgreSQL, Redis, php-fpm, gunicorn 27 and the app under test lives here.

WORK="/tmp/blind/$NAME"
BLIND_VENV=/tmp/blind/venv
BLIND_NPM=/tmp/blind/npm
PGBIN=/usr/lib/postgresql/15/bin

# py_deps: a venv from Debian's python3 with the PyPI packages the blind scenarios use, pinned.
py_deps() {
  if [ ! -x "$BLIND_VENV/bin/uvicorn" ]; then
    /usr/bin/python3 -m venv "$BLIND_VENV"
    "$BLIND_VENV/bin/pip" install -q fastapi==0.165.0 uvicorn==0.54.0 asyncpg==0.32.0 \
      psycopg2-binary==2.9.13 SQLAlchemy==2.1.9 gevent==26.9.0 gunicorn==27.0.1 packaging==26.4
  fi
}

# node_deps: Express, ioredis, node-postgres, pino and winston, pinned, under /tmp/blind/npm.
node_deps() {
  if [ ! -d "$BLIND_NPM/node_modules/ioredis" ] || [ ! -d "$BLIND_NPM/node_modules/winston" ]; then
    mkdir -p "$BLIND_NPM"
    (cd "$BLIND_NPM" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      npm install --no-audit --no-fund express@5.3.0 ioredis@6.0.0 pg@8.23.1 pino@10 pino-http@11 winston@3 >/dev/null)
  fi
}

# pg_init PORT [postgresql.conf lines...]: a private PostgreSQL 15 cluster (Debian's binaries)
# in $WORK/pg, run as the postgres user, listening on 127.0.0.1:PORT, log in $WORK/postgres.log.
pg_init() {
  local port=$1; shift
  mkdir -p "$WORK/pg"
  chown postgres: "$WORK/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$WORK/pg'"
    echo "logging_collector = off"
    echo "log_line_prefix = '%m [%p] '"
    local l; for l in "$@"; do echo "$l"; done
  } >>"$WORK/pg/data/postgresql.conf"
  touch "$WORK/postgres.log"; chown postgres: "$WORK/postgres.log"
  PG_PORT=$port
}
pg_start() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/postgres.log" -w start >/dev/null
  on_exit "runuser -u postgres -- $PGBIN/pg_ctl -D $WORK/pg/data -m immediate stop >/dev/null 2>&1"
}
# pg_stop [MODE]: fast by default (what `systemctl stop postgresql` does).
pg_stop() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m "${1:-fast}" -w stop >/dev/null
}
psql_do() { "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt "$@"; }

# blind_memcg NAME MB: a fresh cgroup v1 memory cgroup /NAME limited to MB MiB (path in
# BLIND_CG), removed on exit. Start what runs in it with
#   bash -c "$BLIND_IN_MEMCG" "$BLIND_CG" CMD... &
# so that $! is CMD's own pid (a shell function in the background would fork first).
blind_memcg() {
  BLIND_CG=/sys/fs/cgroup/memory/$1
  [ -d "$BLIND_CG" ] && rmdir "$BLIND_CG" 2>/dev/null || true
  mkdir -p "$BLIND_CG"
  echo $(($2 << 20)) >"$BLIND_CG/memory.limit_in_bytes"
  on_exit "sleep 0.5; rmdir $BLIND_CG"
}
BLIND_IN_MEMCG='echo $$ >"$0/cgroup.procs"; exec "$@"'

# ---- What the blind run.sh files all did the same way ---------------------------
# (their stories: a dependency stopped for a while, a burst against a pool; the
# starting, stopping and version printing lives here.)

# py_extra MODULE PKG==VERSION...: more pinned PyPI packages in the blind venv, once
# (MODULE is the site-packages directory that shows they are there).
py_extra() {
  local mod=$1; shift
  [ -d "$BLIND_VENV/lib/python3.11/site-packages/$mod" ] || "$BLIND_VENV/bin/pip" install -q "$@"
}
# py_version MODULE: the installed version of a PyPI package in the blind venv.
py_version() { "$BLIND_VENV/bin/python" -c "import $1; print($1.__version__)"; }
# npm_version PACKAGE: the installed version of an npm package in /tmp/blind/npm.
npm_version() { node -p "require('$BLIND_NPM/node_modules/$1/package.json').version"; }
# node_link: the blind npm packages visible to $WORK/*.js.
node_link() { ln -s "$BLIND_NPM/node_modules" "$WORK/node_modules"; }

# app_start LOG SECONDS CMD...: the service under test, run in $WORK, stdout and stderr
# appended to $WORK/LOG, tracked; waits up to SECONDS until it listens on $APP.
# Its environment is the story's: `app_start app.log 20 env PORT=$APP ... CMD`.
app_start() {
  local out=$1 secs=$2; shift 2
  (cd "$WORK" && exec "$@") >>"$WORK/$out" 2>&1 &
  APP_PID=$!
  track "$APP_PID"
  wait_port "$APP" "$secs"
}

# blind_gunicorn ARG... MODULE:APP: PyPI's gunicorn 27 (the blind venv) on 127.0.0.1:$APP,
# error log $WORK/gunicorn.log; ARGs are what the story sets (workers, worker class,
# --env); $WRAP prefixes the command (in_memcg). wind_down stops it with SIGTERM
# (graceful, by its pid file) and gives it 1.5 s.
blind_gunicorn() {
  spawn gunicorn.out ${WRAP:-} "$BLIND_VENV/bin/gunicorn" --chdir "$WORK" --bind "127.0.0.1:$APP" \
    --error-logfile "$WORK/gunicorn.log" --pid "$WORK/gunicorn.pid" "$@"
  APP_PID=$SPAWNED
  on_exit "kill \$(cat '$WORK/gunicorn.pid' 2>/dev/null) 2>/dev/null"
  on_stop "kill -TERM \$(cat '$WORK/gunicorn.pid'); sleep 1.5"
  wait_port "$APP" 20
}
blind_gunicorn_version() { "$BLIND_VENV/bin/gunicorn" --version 2>&1 | awk '{print $2}' | tr -d '()'; }

# pg_up PORT [postgresql.conf lines...]: pg_init and pg_start.
pg_up() { pg_init "$@"; pg_start; }

# pg_outage SECONDS: PostgreSQL stopped the way a service stop does it (pg_ctl
# stop -m fast), down SECONDS, started again; marked both ways.
pg_outage() {
  pg_stop fast
  mark "PostgreSQL stopped (pg_ctl stop -m fast): 127.0.0.1:$PG_PORT refuses connections"
  sleep "$1"
  pg_start
  mark "PostgreSQL started again"
}

# redis_start [ARG...]: Debian's redis-server on 127.0.0.1:$REDIS, no persistence, its
# log in $WORK/redis.log, ARGs (--maxclients) what the story sets; pid in REDIS_PID.
redis_start() {
  command -v redis-server >/dev/null || { log "needs Debian's redis-server"; return 1; }
  redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no "$@" \
    --logfile "$WORK/redis.log" --dir "$WORK" &
  REDIS_PID=$!
  track "$REDIS_PID"
  wait_port "$REDIS"
}
redis_version() { redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'; }

# redis_outage SECONDS: Redis stopped (SIGTERM, what a service stop sends), down
# SECONDS, started again; marked both ways.
redis_outage() {
  kill -TERM "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
  mark "Redis stopped (SIGTERM): 127.0.0.1:$REDIS refuses connections"
  sleep "$1"
  redis_start
  mark "Redis started again"
}

# fpm_start POOL: Debian's php-fpm with one pool POOL listening on TCP 127.0.0.1:$FPM
# (what the blind PHP scenarios' nginx names as the upstream), error log
# $WORK/php-fpm.log; the pool's settings (pm, limits, slowlog) come on stdin.
# $WRAP prefixes the command (in_memcg). wind_down stops the master gracefully
# (SIGQUIT, by its pid file: under $WRAP the spawned pid is a shell). Waits until it listens.
fpm_start() {
  {
    cat <<CONF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
log_level = notice
daemonize = no

[$1]
listen = 127.0.0.1:$FPM
CONF
    cat
  } >"$WORK/php-fpm.conf"
  spawn php-fpm.out ${WRAP:-} php-fpm8.2 -R -y "$WORK/php-fpm.conf" -F
  on_exit "kill \$(cat '$WORK/php-fpm.pid' 2>/dev/null) 2>/dev/null"
  on_stop "kill -QUIT \$(cat '$WORK/php-fpm.pid'); wait $SPAWNED 2>/dev/null"
  wait_port "$FPM"
}

# nginx_fpm SERVER_NAME [DIRECTIVE...]: nginx.conf with one server on 127.0.0.1:$NGX
# serving $WORK/www, *.php through php-fpm on 127.0.0.1:$FPM, with extra DIRECTIVEs
# in the PHP location (nginx_php's TCP twin).
nginx_fpm() {
  local name=$1 d; shift
  {
    printf '    server {\n        listen 127.0.0.1:%s;\n        server_name %s;\n        root %s;\n' "$NGX" "$name" "$WORK/www"
    printf '        location ~ \\.php$ {\n            include /etc/nginx/fastcgi_params;\n'
    printf '            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n'
    printf '            fastcgi_pass 127.0.0.1:%s;\n' "$FPM"
    for d in "$@"; do printf '            %s;\n' "$d"; done
    printf '        }\n    }\n'
  } | nginx_conf
}

# php_page NAME < code: $WORK/www/NAME; php_ok: the index.php that answers "ok".
php_page() { mkdir -p "$WORK/www"; cat >"$WORK/www/$1"; }
php_ok() { printf '<?php\necho "ok\\n";\n' | php_page index.php; }

# kern_since: remembers now; kern_oom CGROUP: the kernel's OOM-kill blocks for the
# memory cgroup /CGROUP since then, as `dmesg --time-format iso` prints them, in
# $WORK/kern.log (fails when there is none: the story did not happen).
kern_since() { DMESG_FROM=$(date -u +%s); }
kern_oom() {
  dmesg --time-format iso | $PY "$COMMON/oomblocks.py" --since "$DMESG_FROM" --cgroup "/$1" >"$WORK/kern.log"
  [ -s "$WORK/kern.log" ] || { log "no OOM kill in dmesg"; return 1; }
}

# shell_loop LOG COMMAND [CGROUP]: the restart loop many hosts run instead of a
# supervisor ($WORK/loop.sh: `while true; do COMMAND; sleep 2; done`; it writes
# nothing itself), its output appended to $WORK/LOG, inside the memory cgroup
# CGROUP when given; pid in LOOP_PID. wind_down (and cleanup) stop the loop and
# the app it runs (found by the loop's pid, its parent).
shell_loop() {
  local out=$1 cmd=$2 cg=${3:-}
  printf 'while true; do %s; sleep 2; done\n' "$cmd" >"$WORK/loop.sh"
  if [ -n "$cg" ]; then
    bash -c "$BLIND_IN_MEMCG" "$cg" bash "$WORK/loop.sh" >>"$WORK/$out" 2>&1 &
  else
    bash "$WORK/loop.sh" >>"$WORK/$out" 2>&1 &
  fi
  LOOP_PID=$!
  track "$LOOP_PID"
  on_exit stop_loop
  on_stop "stop_loop; sleep 0.5"
}
stop_loop() {
  local kids; kids=$(pgrep -P "$LOOP_PID" || true)
  kill "$LOOP_PID" 2>/dev/null || true
  [ -z "$kids" ] || kill $kids 2>/dev/null || true
}
