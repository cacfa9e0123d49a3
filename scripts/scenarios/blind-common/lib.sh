# Helpers for the "blind" scenarios (software culprit's rules were not written
# against: FastAPI/uvicorn, asyncpg, psycopg2, SQLAlchemy, PostgreSQL, Redis,
# ioredis, pino, winston, gevent, php-fpm ondemand, Go net/http).
# Source it from a scenario's run.sh AFTER common/lib.sh: it moves the scratch
# directory to /tmp/blind/$NAME and installs the pinned PyPI/npm packages into
# /tmp/blind (never globally). Candidates for common/lib.sh.

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
