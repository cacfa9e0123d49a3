#!/usr/bin/env bash
# php-memory-limit: a PHP export page builds its whole result in memory; with
# memory_limit 32M it dies with "Allowed memory size of ... exhausted". php-fpm
# runs with PHP's default error_log (unset), so the fatal error reaches nginx's
# error log through FastCGI stderr; PHP answers 500. A burst of exports for 10 s.
# cause runtime_oom. Held-out round 2.
NAME=php-memory-limit
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
NGX=32150 FPM=32151

port_free $NGX; port_free $FPM
prepare
mkdir -p "$WORK/www"
cat >"$WORK/www/export.php" <<'PHP'
<?php
// Builds the whole export before sending it: fine for small accounts.
$rows = [];
$n = (int)($_GET['rows'] ?? 1000);
for ($i = 0; $i < $n; $i++) {
    $rows[] = str_repeat('x', 1024) . $i;
}
header('Content-Type: text/csv');
echo count($rows), "\n";
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

[exports]
listen = 127.0.0.1:$FPM
pm = static
pm.max_children = 4
php_admin_value[memory_limit] = 32M
CONF
php-fpm8.2 -R -y "$WORK/php-fpm.conf" -F >>"$WORK/php-fpm.out" 2>&1 &
FPM_PID=$!; track $FPM_PID
wait_port $FPM

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name exports.local;
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
nginx_start
wait_port $NGX
mark "php-fpm $(php-fpm8.2 -v | head -1 | awk '{print $2}') (memory_limit 32M) on 127.0.0.1:$FPM, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 8 --duration 40 --paths '/export.php?rows=500=4,/index.php=3,/missing.php=1'
sleep 14
mark "burst: a big account's exports (rows=100000) at 3 requests/s for 10 s"
$PY "$COMMON/load.py" --base "http://127.0.0.1:$NGX" --rate 3 --duration 10 --paths '/export.php?rows=100000=1' --ua burst --seed 2 >>"$WORK/load.out" 2>&1
mark "burst ended"
load_wait
mark "load ended"
sleep 1
nginx_stop
kill -QUIT $FPM_PID; wait $FPM_PID 2>/dev/null || true

cat >"$WORK/README.in" <<MD
# php-memory-limit

A PHP export page (\`export.php\`) under Debian's php-fpm $(php-fpm8.2 -v | head -1 | awk '{print $2}') (TCP \`127.0.0.1:$FPM\`, \`memory_limit = 32M\`, PHP's default
\`error_log\`: unset) behind nginx (\`127.0.0.1:$NGX\`) builds its whole result in memory. Small exports work; for
10 s a big account's exports (3 requests/s) exceed the limit: PHP dies with \`PHP Fatal error:  Allowed memory size
of 33554432 bytes exhausted (tried to allocate ...)\`, which reaches **nginx's** error log through FastCGI stderr
(\`FastCGI sent in stderr: "PHP message: PHP Fatal error: ..."\`), and answers **500**. php-fpm's own log says
nothing; the worker survives.

Held-out round 2 (built after the fixes of round 1).

Files: \`access.log\`, \`error.log\` (nginx, with PHP's messages), \`php-fpm.log\`.

Regenerate: \`scripts/scenarios/php-memory-limit/run.sh\` (php8.2-fpm).
MD
finish --copy access.log --copy error.log --copy php-fpm.log \
  --expect "error.log:Allowed memory size" \
  --incident "upstream=127.0.0.1:$FPM;cause=runtime_oom;match=ua=127.0.0.1:$FPM" \
  --description "PHP exports exceed memory_limit (Allowed memory size exhausted, relayed through FastCGI stderr); PHP answers 500" \
  --notes "The runtime (PHP) ran out of its memory limit; the kernel did not kill anything." \
  --readme "$WORK/README.in"
