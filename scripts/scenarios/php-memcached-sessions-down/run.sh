#!/usr/bin/env bash
# php-memcached-sessions-down: PHP keeps its sessions in memcached (Debian's
# php8.2-memcached, session.save_handler = memcached); memcached is stopped for
# 12 s. session_start() throws "Failed to create session ID: memcached (path:
# 127.0.0.1:PORT)" (PHP 8), nobody catches it, the fatal error reaches nginx's
# error log through FastCGI stderr and the page answers 500 (the 503 branch
# below is never reached). cause dependency_failure. Held-out round 7.
NAME=php-memcached-sessions-down
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
WORK="${SCN_WORK_ROOT:-/tmp/blind2}/$NAME"
NGX=39040 FPM=39041 MC=39042

command -v memcached >/dev/null || { log "needs Debian's memcached"; exit 1; }
php -m | grep -qx memcached || { log "needs php8.2-memcached"; exit 1; }
port_free $NGX $FPM $MC
prepare
mkdir -p "$WORK/www"
cat >"$WORK/www/account.php" <<'PHP'
<?php
// The account page needs the user's session; without it there is nobody to show.
if (!session_start()) {
    http_response_code(503);
    echo "session store unavailable\n";
    exit;
}
$_SESSION['views'] = ($_SESSION['views'] ?? 0) + 1;
header('Content-Type: application/json');
echo json_encode(['views' => $_SESSION['views']]), "\n";
PHP
cat >"$WORK/www/index.php" <<'PHP'
<?php
echo "ok\n";
PHP
cat >"$WORK/php-fpm.conf" <<CONF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
daemonize = no

[shop]
listen = 127.0.0.1:$FPM
pm = static
pm.max_children = 4
php_value[session.save_handler] = memcached
php_value[session.save_path] = "127.0.0.1:$MC"
CONF
start_mc() { spawn memcached.log memcached -u nobody -l 127.0.0.1 -p $MC -U 0 -m 32 -v; MC_PID=$SPAWNED; wait_port $MC; }
start_mc
spawn php-fpm.out php-fpm8.2 -R -y "$WORK/php-fpm.conf" -F
FPM_PID=$SPAWNED
on_stop "kill -QUIT $FPM_PID; wait $FPM_PID 2>/dev/null"
wait_port $FPM

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name www.local;
        root $WORK/www;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass 127.0.0.1:$FPM;
        }
    }
}
CONF
} >"$WORK/nginx.conf"
nginx_up
mark "memcached $(memcached -V | awk '{print $2}') on 127.0.0.1:$MC (PHP sessions), php-fpm $(php-fpm8.2 -v | head -1 | awk '{print $2}') on 127.0.0.1:$FPM, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/account.php=5,/index.php=2,/missing.php=1'
sleep 13
kill -TERM "$MC_PID"; wait "$MC_PID" 2>/dev/null || true
mark "memcached stopped (SIGTERM): 127.0.0.1:$MC refuses connections"
sleep 12
start_mc
mark "memcached started again"
wind_down

cat >"$WORK/README.in" <<MD
# php-memcached-sessions-down

A PHP account page under Debian's php-fpm $(php-fpm8.2 -v | head -1 | awk '{print $2}') (TCP \`127.0.0.1:$FPM\`) keeps its sessions in memcached
$(memcached -V | awk '{print $2}') (Debian, \`127.0.0.1:$MC\`) through php8.2-memcached (\`session.save_handler = memcached\`). Under a
steady 8 requests/s memcached is stopped for 12 s. \`session_start()\` throws
(\`Uncaught Error: Failed to create session ID: memcached (path: 127.0.0.1:$MC)\`, PHP 8); nothing catches it, PHP's
fatal error with its stack reaches **nginx's** error log through FastCGI stderr (one entry over several lines),
and the page answers **500**.

The truth: dependency_failure at php-fpm (\`127.0.0.1:$FPM\`), dependency \`127.0.0.1:$MC\` (named in the warning).

Held-out round 7.

Files: \`access.log\`, \`error.log\` (nginx, with PHP's messages), \`php-fpm.log\`, \`memcached.log\`.

Regenerate: \`scripts/scenarios/php-memcached-sessions-down/run.sh\` (Debian: memcached php8.2-fpm php8.2-memcached).
MD
finish --copy access.log --copy error.log --copy php-fpm.log --copy memcached.log \
  --expect "error.log:session" \
  --incident "upstream=127.0.0.1:$FPM;cause=dependency_failure;dependency=127.0.0.1:$MC;match=ua=127.0.0.1:$FPM" \
  --description "PHP pages answer 500 while memcached, PHP's session store (127.0.0.1:$MC), is stopped" \
  --notes "The dependency is memcached on 127.0.0.1:$MC, named in PHP's session warning." \
  --readme "$WORK/README.in"
