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
SOCK="$WORK/php-fpm.sock"
mkdir -p "$WORK/www"
cat >"$WORK/www/index.php" <<'PHP'
<?php
header('Content-Type: application/json');
echo json_encode(['page' => 'home', 'time' => time()]), "\n";
PHP
cat >"$WORK/www/report.php" <<'PHP'
<?php
// A report that waits on a slow query.
usleep(1500000);
header('Content-Type: application/json');
echo json_encode(['report' => 'monthly', 'rows' => 1200]), "\n";
PHP

cat >"$WORK/php-fpm.conf" <<CONF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
log_level = notice
daemonize = no

[shop]
listen = $SOCK
listen.backlog = $BACKLOG
; nginx workers run as nobody
listen.mode = 0666
pm = dynamic
pm.max_children = 2
pm.start_servers = 2
pm.min_spare_servers = 2
pm.max_spare_servers = 2
access.log = $WORK/php-fpm-access.log
access.format = "%{%Y-%m-%dT%H:%M:%S%z}t %m %r%Q%q %s %{mili}d ms pid=%p"
CONF

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name shop.local;
        root $WORK/www;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass unix:$SOCK;
            fastcgi_read_timeout 3s;
        }
    }
}
CONF
} >"$WORK/nginx.conf"

# -R: this scenario runs as root; the pool then runs as root too (private, loopback only).
php-fpm8.2 -R -y "$WORK/php-fpm.conf" -F &
FPM=$!; track $FPM
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
nginx_start
wait_port $NGX
mark "php-fpm (pool shop, unix socket, pm dynamic, max_children 2, listen.backlog $BACKLOG) and nginx on 127.0.0.1:$NGX started; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/index.php=7,/static/missing.css=1'
sleep 14
mark "burst: 12 requests/s to /report.php (1.5 s each) for 10 s"
$PY "$COMMON/load.py" --base "http://127.0.0.1:$NGX" --rate 12 --duration 10 --paths '/report.php=1' --ua 'culprit-scenario-burst/1.0' >>"$WORK/load.out" 2>&1
mark "burst ended"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -QUIT $FPM; wait $FPM 2>/dev/null || true

cat >"$WORK/README.in" <<MD
# phpfpm-queue-ny

Debian's php-fpm $(php-fpm8.2 -v | head -1 | awk '{print $2}') runs a private pool \`shop\` on the unix socket \`$SOCK\` with
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
