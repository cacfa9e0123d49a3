#!/usr/bin/env bash
# phpfpm-ondemand-slowlog: php-fpm with `pm = ondemand` (max_children 3) on TCP,
# slowlog on (request_slowlog_timeout 1s). A burst of 1.5 s requests queues in
# the listen backlog; nginx times out reading (fastcgi_read_timeout 3s, 504).
# ondemand words its warning differently ("server reached max_children setting",
# no "pm."), and the slowlog adds "executing too slow" lines and stack dumps.
# cause pool_saturation.
NAME=phpfpm-ondemand-slowlog
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32070 FPM=32071

port_free $NGX $FPM
prepare
php_page report.php <<'PHP'
<?php
// A report that waits on a slow backend call (1.5 s).
usleep(1500000);
header('Content-Type: application/json');
echo json_encode(['report' => 'ok', 'at' => time()]), "\n";
PHP
php_page index.php <<'PHP'
<?php
header('Content-Type: application/json');
echo json_encode(['ok' => true]), "\n";
PHP
fpm_start reports <<CONF
pm = ondemand
pm.max_children = 3
pm.process_idle_timeout = 10s
request_slowlog_timeout = 1s
slowlog = $WORK/php-fpm-slow.log
CONF
nginx_fpm reports.local "fastcgi_read_timeout 3s"
nginx_up
mark "php-fpm $(phpfpm_version) pool reports (pm ondemand, max_children 3, slowlog 1s) on 127.0.0.1:$FPM, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 40 --paths '/index.php=5,/missing.php=1'
sleep 12
burst "burst: 5 requests/s on /report.php (1.5 s each) for 10 s" \
  --rate 5 --duration 10 --paths '/report.php=1' --ua burst --seed 2
wind_down

cat >"$WORK/README.in" <<MD
# phpfpm-ondemand-slowlog

Debian's php-fpm $(phpfpm_version) with one pool on TCP \`127.0.0.1:$FPM\` (default backlog), **\`pm = ondemand\`**, \`pm.max_children = 3\`,
and the slow log on (\`request_slowlog_timeout = 1s\`), behind nginx (\`127.0.0.1:$NGX\`, \`fastcgi_read_timeout 3s\`).
A steady 6 requests/s on a quick script is fine; a 10 s burst of 5 requests/s on \`report.php\` (1.5 s each) needs
about 8 children. The pool stops at 3, the rest queue in the listen backlog and nginx answers **504** (\`upstream
timed out (110: Connection timed out) while reading response header from upstream\`), the quick requests queued
behind them too.

php-fpm's log in ondemand mode says \`WARNING: [pool reports] server reached max_children setting (3), consider
raising it\` (dynamic mode says \`pm.max_children\`), and the slow log adds \`child N, script '...' (request: "GET
/report.php") executing too slow (1.0xx sec), logging\` warnings plus stack dumps in php-fpm-slow.log.

Files: \`access.log\`, \`error.log\` (nginx), \`php-fpm.log\` (master: local time without zone), \`php-fpm-slow.log\`.

Regenerate: \`scripts/scenarios/phpfpm-ondemand-slowlog/run.sh\` (php8.2-fpm).
MD
finish --copy access.log --copy error.log --copy php-fpm.log --copy php-fpm-slow.log \
  --expect "php-fpm.log:server reached max_children" \
  --incident "upstream=127.0.0.1:$FPM;cause=pool_saturation;match=ua=127.0.0.1:$FPM" \
  --description "php-fpm (pm ondemand, max_children 3) saturated by a burst of slow requests; nginx 504 read timeouts" \
  --notes "ondemand's warning has no 'pm.' in front of max_children; the slowlog's 'executing too slow' lines come first." \
  --readme "$WORK/README.in"
