#!/usr/bin/env bash
# python-oom-dmesg: a stdlib Python HTTP service in a cgroup v1 memory cgroup,
# WITHOUT a process manager: a plain shell loop restarts it. One request makes it
# allocate without bound; the kernel OOM-kills it. The kernel's lines are kept as
# `dmesg -T` prints them ([Wed Nov 25 19:20:01 2026] ...), the form people paste.
# cause oom_kill.
NAME=python-oom-dmesg
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32050 APP=32051 LIMIT_MB=96
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP
blind_memcg blind-pyoom $LIMIT_MB
prepare
cp "$HERE/app.py" "$WORK/"

nginx_proxy export.local "http://127.0.0.1:$APP" "proxy_read_timeout 30s"

# The loop many hosts run instead of a supervisor.
shell_loop app.log "PORT=$APP $PY -u $WORK/app.py" "$BLIND_CG"
wait_port $APP
nginx_up
kern_since
mark "app (python3 stdlib http.server) in memory cgroup blind-pyoom (${LIMIT_MB} MiB) on 127.0.0.1:$APP under a shell restart loop, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=6,/api/stats=3,/health=1,/favicon.ico=1' --timeout 20
sleep 15
trigger "/export?all=1" "allocates without bound"
wind_down

dmesg --time-format iso >"$WORK/dmesg-iso.all"
dmesg -T >"$WORK/dmesg-t.all"
$PY "$COMMON/oomblocks.py" --since "$DMESG_FROM" --cgroup /blind-pyoom <"$WORK/dmesg-iso.all" >"$WORK/kept.iso"
$PY "$HERE/dmesg_t.py" "$WORK/dmesg-iso.all" "$WORK/kept.iso" "$WORK/dmesg-t.all" >"$WORK/dmesg.txt"
[ -s "$WORK/dmesg.txt" ] || { log "no OOM kill in dmesg"; exit 1; }

cat >"$WORK/README.in" <<MD
# python-oom-dmesg

A stdlib-only Python service (\`app.py\`, \`ThreadingHTTPServer\`, Debian's python3) on \`127.0.0.1:$APP\` behind nginx
(\`127.0.0.1:$NGX\`) runs in the cgroup v1 memory cgroup \`blind-pyoom\` (${LIMIT_MB} MiB) under a plain shell loop
(\`while true; do python3 app.py; sleep 2; done\`): no process manager, so nothing but the kernel and the app's own
startup line says what happened. Under a steady 10 requests/s one request to /export allocates without bound; the
kernel's OOM killer kills \`python3\`; nginx answers 502 (the request in flight, then refused connections) until the
loop has started the app again (2 s).

The kernel lines are kept as \`dmesg -T\` prints them (\`[Wed Nov 25 19:20:01 2026] Memory cgroup out of memory:
Killed process N (python3) ...\`): ctime-like local time, one-second resolution, no zone, no year-first date.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the app's logging lines and http.server's request lines),
\`dmesg.txt\` (\`dmesg -T\`, only the OOM blocks of this cgroup).

Regenerate: \`sudo scripts/scenarios/python-oom-dmesg/run.sh\` (root: cgroup and dmesg).
MD
finish --copy access.log --copy error.log --copy app.log --copy dmesg.txt \
  --expect "dmesg.txt:Killed process [0-9]+ \\(python3\\)" \
  --incident "upstream=127.0.0.1:$APP;cause=oom_kill;match=ua=127.0.0.1:$APP" \
  --description "Python service OOM-killed by the kernel in a memory cgroup, restarted by a plain shell loop; kernel lines from dmesg -T" \
  --notes "dmesg.txt is dmesg -T (local time = UTC here, second resolution). No supervisor logs anything." \
  --readme "$WORK/README.in"
