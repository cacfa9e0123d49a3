#!/usr/bin/env bash
# pm2-oom: a Node app under PM2, inside a cgroup v1 memory cgroup, OOM-killed by the
# real kernel when a request makes it allocate; PM2 restarts it; nginx answers 502
# (premature close for the requests in flight, refused while the app is down).
# pm2-oom-ny runs this script with SCN_TZ=America/New_York (its own name, ports, cgroup).
NAME=${SCN_NAME:-pm2-oom}
source "$(dirname "$0")/../common/lib.sh"
NGX=${SCN_NGX:-18410} APP=$((NGX + 1))
CGNAME=${SCN_CGROUP:-culprit-scn-oom}
TZ_NOTE="the machine is UTC"
# SCN_SKEW (pm2-oom-skew): the app host's clock runs ahead of the proxy's, as on a
# host without NTP: PM2, the app and dmesg see a shifted wall clock (libfaketime,
# monotonic clock untouched, so the kernel's own stamps stay true and dmesg's
# conversion to wall time shifts like a wrong system clock would).
APPCLOCK=""
SKEW_NOTE=""
if [ -n "${SCN_SKEW:-}" ]; then
  command -v faketime >/dev/null || { log "needs faketime (apt-get install faketime)"; exit 1; }
  APPCLOCK="env FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f $SCN_SKEW"
  SKEW_NOTE="The app host's clock was off by $SCN_SKEW against nginx's (PM2, the app and dmesg ran under libfaketime): pm2.log, the app's logs and kern.log are $SCN_SKEW off; access.log and error.log are true. "
fi
if [ -n "${SCN_TZ:-}" ]; then
  export TZ=$SCN_TZ  # the whole host's local time: nginx, PM2, dmesg
  TZ_NOTE="all processes (nginx, PM2, the app, dmesg) ran with TZ=$SCN_TZ: access.log and kern.log carry the offset, error.log and PM2's time: true prefixes are local time without zone"
fi
LIMIT_MB=${LIMIT_MB:-160}

port_free $NGX $APP
memcg "$CGNAME" "$LIMIT_MB"
pm2_setup
prepare
cp "$(dirname "$0")/app.js" "$WORK/app.js"
pm2_app shop-api $APP 3000 "restart_delay: 1000"

echo "server 127.0.0.1:$APP;" | nginx_group shop_api shop.local "proxy_read_timeout 30s"

# The PM2 daemon is started inside the cgroup, so the daemon and every app it
# forks are charged to it.
WRAP="in_memcg $APPCLOCK" pm2_start
mark "pm2 started shop-api in memory cgroup culprit-scn-oom (limit ${LIMIT_MB} MiB)"
nginx_up
DMESG_FROM=$(date -u +%s)
mark "nginx started on 127.0.0.1:$NGX, proxy to 127.0.0.1:$APP; steady load begins"

load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/items=6,/api/cart=3,/health=1,/favicon.ico=1' --timeout 20
sleep 15
trigger "/api/report?range=all" "the app allocates without bound"
wind_down

# Only the kernel lines of this scenario's kill: the blocks that name our cgroup,
# from "invoked oom-killer" to the reaper line, within the run's window.
$APPCLOCK dmesg --time-format iso | $PY "$COMMON/oomblocks.py" --since "$DMESG_FROM" --cgroup /$CGNAME >"$WORK/kern.log"
[ -s "$WORK/kern.log" ] || { log "no OOM kill in dmesg"; exit 1; }

cat >"$WORK/README.in" <<MD
# $NAME

A Node HTTP app (\`app.js\`, name \`shop-api\`) runs under PM2 $(pm2_version) (fork mode,
\`time: true\`, \`restart_delay: 1000\`) whose daemon was started inside the cgroup v1 memory cgroup
\`/$CGNAME\` limited to $LIMIT_MB MiB. nginx proxies \`127.0.0.1:$NGX\` to \`127.0.0.1:$APP\`.
A steady load of 10 requests/s runs for 40 s; 15 s in, one request to \`/api/report\` makes the app
allocate 32 MiB per tick until the real kernel OOM-kills it. PM2 restarts it; the app warms up for 3 s
before listening again. nginx answers 502: "upstream prematurely closed connection" for the requests in
flight at the kill, then "connect() failed (111: Connection refused)" until the app listens again.

Files: \`access.log\`, \`error.log\` (nginx), \`pm2.log\` (PM2 daemon log, \$PM2_HOME/pm2.log),
\`shop-api-out.log\` / \`shop-api-error.log\` (the app's stdout/stderr as PM2 wrote them, \`time: true\`),
\`kern.log\` (\`dmesg --time-format iso\`, only the blocks of this kill).

Time zone: $TZ_NOTE. $SKEW_NOTE

Regenerate: \`sudo scripts/scenarios/$NAME/run.sh\` (root: cgroup and dmesg).
MD
finish --copy access.log --copy error.log --copy pm2.log --copy shop-api-out.log --copy shop-api-error.log --copy kern.log \
  --incident "upstream=127.0.0.1:$APP;cause=oom_kill;match=ua~^127\\.0\\.0\\.1:$APP" \
  --description "Node app under PM2 OOM-killed by the kernel (memory cgroup), restarted by PM2; nginx 502 until it listens again" \
  --tz "${SCN_TZ:-UTC}" \
  --notes "${SKEW_NOTE}Time zone: $TZ_NOTE. kern.log is dmesg --time-format iso (wall clock computed by dmesg from boot time + monotonic). The killed process is the PM2-forked node app; the PM2 daemon stays in the same cgroup and survives." \
  --readme "$WORK/README.in"
