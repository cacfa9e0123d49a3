#!/usr/bin/env bash
# phpfpm-queue-ny: the same pool as phpfpm-saturation, but with the queue users
# often configure (listen.backlog 511) and fastcgi_read_timeout 3s: requests wait
# in the socket's queue and nginx gives up with 504 "upstream timed out ... while
# reading response header". And the host runs in America/New_York: nginx and
# php-fpm both write local time (access log with -0500, error logs without zone).
NAME=phpfpm-queue-ny
source "$(dirname "$0")/../common/lib.sh"
NGX=18432
BACKLOG=511
export TZ=America/New_York

port_free $NGX
prepare
# The pool of phpfpm-saturation, with a large queue.
cp -r "$(dirname "$0")/../phpfpm-saturation/www" "$WORK/"
BACKLOG=$BACKLOG WORK=$WORK phpfpm_start <"$(dirname "$0")/../phpfpm-saturation/pool.conf"
nginx_php shop.local "fastcgi_read_timeout 3s"
nginx_up
mark "php-fpm (pool shop, unix socket, pm dynamic, max_children 2, listen.backlog $BACKLOG) and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/index.php=7,/static/missing.css=1'
sleep 14
burst "burst: 12 requests/s to /report.php (1.5 s each) for 10 s" --rate 12 --duration 10 --paths '/report.php=1' --ua 'culprit-scenario-burst/1.0'
wind_down

cat >"$WORK/README.in" <<MD
# phpfpm-queue-ny

Debian's php-fpm $(phpfpm_version) runs a private pool \`shop\` on the unix socket \`$SOCK\` with
\`pm = dynamic\`, \`pm.max_children = 2\` and \`listen.backlog = $BACKLOG\`; nginx (\`127.0.0.1:$NGX\`)
passes \`*.php\` to it with \`fastcgi_read_timeout 3s\`. **Both run with TZ=America/New_York** (nginx keeps
TZ): access.log times carry -0500, error.log and php-fpm.log are New York local time without a zone.

A steady 6 requests/s (a fast \`index.php\` and a missing static file) runs for 40 s; 14 s in, a burst
of 12 requests/s to \`report.php\` (sleeps 1.5 s) lasts 10 s. Both children are busy; connections wait
in the socket's large queue, and nginx gives up after 3 s: 504 "upstream timed out (110: Connection
timed out) while reading response header from upstream", for the reports and the fast page alike.
php-fpm logs "server reached pm.max_children setting (2), consider raising it". The read timeouts look
like a slow upstream, but the cause is the saturated pool.

Files: \`access.log\`, \`error.log\` (nginx), \`php-fpm.log\` (php-fpm's error log, local time without zone),
\`php-fpm-access.log\` (the pool's access log, ISO time with offset: +0000, because php-fpm's
children run with a cleared environment (\`clear_env\` defaults to yes) and so without TZ, while the
master, which writes php-fpm.log, keeps it).

Regenerate: \`scripts/scenarios/phpfpm-queue-ny/run.sh\` (root: the pool runs with -R).
MD
finish --copy access.log --copy error.log --copy php-fpm.log --copy php-fpm-access.log \
  --incident "upstream=unix:$SOCK;cause=pool_saturation;match=ua=unix:$SOCK" \
  --expect 'php-fpm.log:server reached pm.max_children' --expect 'error.log:upstream timed out' \
  --expect 'access.log:-0500\]' \
  --forbid 'error.log:Permission denied' \
  --tz America/New_York \
  --description "php-fpm pool (max_children 2, listen.backlog $BACKLOG) saturated; requests queue and nginx answers 504 after fastcgi_read_timeout 3s; host in America/New_York" \
  --notes "nginx and php-fpm ran with TZ=America/New_York: access.log has -0500 offsets; error.log and php-fpm.log are New York local time without zone (5 h behind UTC). php-fpm-access.log is written by the pool children, whose environment php-fpm clears: it shows +0000 although the master and nginx run in New York. start/end are UTC." \
  --readme "$WORK/README.in"
