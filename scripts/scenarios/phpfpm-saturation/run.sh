#!/usr/bin/env bash
# phpfpm-saturation: Debian php8.2-fpm, private pool on a unix socket with
# pm.max_children 2 and a tiny listen.backlog; a burst of slow report requests
# fills both children and the socket's queue: php-fpm warns "server reached
# pm.max_children" and nginx gets (11: Resource temporarily unavailable) -> 502.
NAME=phpfpm-saturation
source "$(dirname "$0")/../common/lib.sh"
NGX=18430
BACKLOG=${BACKLOG:-2}

port_free $NGX
prepare
cp -r "$(dirname "$0")/www" "$WORK/"

BACKLOG=$BACKLOG WORK=$WORK phpfpm_start <"$(dirname "$0")/pool.conf"
nginx_php shop.local
nginx_up
mark "php-fpm (pool shop, unix socket, pm dynamic, max_children 2, listen.backlog $BACKLOG) and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/index.php=7,/static/missing.css=1'
sleep 14
burst "burst: 12 requests/s to /report.php (1.5 s each) for 10 s" --rate 12 --duration 10 --paths '/report.php=1' --ua 'culprit-scenario-burst/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# phpfpm-saturation

Debian's php-fpm $(phpfpm_version) runs a private pool \`shop\` on the unix socket \`$SOCK\` with
\`pm = dynamic\`, \`pm.max_children = 2\` and \`listen.backlog = $BACKLOG\`; nginx (\`127.0.0.1:$NGX\`)
passes \`*.php\` to it. A steady 6 requests/s (a fast \`index.php\` and a missing static file) runs for 40 s; 14 s in, a
burst of 12 requests/s to \`report.php\` (sleeps 1.5 s) lasts 10 s. Both children are busy, the socket's
accept queue fills, and nginx's non-blocking connect() fails at once with "(11: Resource temporarily
unavailable)": 502, for the reports and for the fast page alike. php-fpm logs "server reached
pm.max_children setting (2), consider raising it".

Files: \`access.log\`, \`error.log\` (nginx), \`php-fpm.log\` (php-fpm's error log, \`[25-Nov-2026 16:40:01]\`
local time without zone), \`php-fpm-access.log\` (the pool's access log, ISO time with offset).

Regenerate: \`scripts/scenarios/phpfpm-saturation/run.sh\` (root: the pool runs with -R).
MD
finish --copy access.log --copy error.log --copy php-fpm.log --copy php-fpm-access.log \
  --incident "upstream=unix:$SOCK;cause=pool_saturation;match=ua=unix:$SOCK" \
  --expect 'php-fpm.log:server reached pm.max_children' --expect 'error.log:Resource temporarily unavailable' \
  --forbid 'error.log:Permission denied' \
  --description "php-fpm pool (max_children 2, listen.backlog $BACKLOG, unix socket) saturated by slow requests: nginx 502 EAGAIN" \
  --notes "php-fpm.log timestamps are local time without zone (the machine is UTC)." \
  --readme "$WORK/README.in"
