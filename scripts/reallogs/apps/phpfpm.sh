#!/usr/bin/env bash
# Runs Debian's php-fpm 8.2 with a private config (own pid, error log, unix
# socket) behind a private nginx, and causes: pm.max_children saturation
# (2 children, 12 concurrent sleeping requests), request_terminate_timeout
# (a 5 s script with a 2 s limit: "execution timed out" + "exited on signal 9"),
# memory_limit exhaustion (to the PHP error log and, via catch_workers_output,
# to the fpm log), a second fpm instance on a taken port (unable to bind), and
# a SIGQUIT/SIGTERM shutdown. Captures logs into parser/testdata/php_fpm/.
# Ports 18330 (nginx), 18331 (tcp pool).
source "$(dirname "$0")/lib.sh"
apps_init php_fpm phpfpm
mkdir -p "$work/www"
rm -f "$work"/*.log
cat > "$work/www/sleep.php" <<'PHP'
<?php sleep(isset($_GET['s']) ? (int)$_GET['s'] : 1); echo "ok\n";
PHP
cat > "$work/www/mem.php" <<'PHP'
<?php $a = []; while (true) { $a[] = str_repeat('x', 1 << 20); }
PHP
cat > "$work/fpm.conf" <<CONF
[global]
pid = $work/fpm.pid
error_log = $work/fpm.log
log_level = notice
daemonize = no

[www]
user = www-data
group = www-data
listen = $work/www.sock
listen.mode = 0666
pm = dynamic
pm.max_children = 2
pm.start_servers = 1
pm.min_spare_servers = 1
pm.max_spare_servers = 2
request_terminate_timeout = 2s
catch_workers_output = yes
php_admin_value[memory_limit] = 8M
php_admin_value[error_log] = $work/php-error.log
php_admin_flag[log_errors] = on

[busy]
user = www-data
group = www-data
listen = $work/busy.sock
listen.mode = 0666
pm = dynamic
pm.max_children = 60
pm.start_servers = 2
pm.min_spare_servers = 2
pm.max_spare_servers = 3

[tcp]
user = www-data
group = www-data
listen = 127.0.0.1:18331
pm = static
pm.max_children = 1
catch_workers_output = yes
php_admin_value[memory_limit] = 4M
php_admin_flag[log_errors] = on
CONF
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
error_log $work/nginx-error.log info;
events { worker_connections 256; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18330;
    root $work/www;
    location ~ \.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass unix:$work/www.sock;
      fastcgi_read_timeout 10s;
    }
    location /busy/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $work/www/sleep.php;
      fastcgi_pass unix:$work/busy.sock;
    }
    location /tcp/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $work/www/mem.php;
      fastcgi_pass 127.0.0.1:18331;
    }
  }
}
CONF
touch "$work/php-error.log"; chmod 666 "$work/php-error.log"
php-fpm8.2 -y "$work/fpm.conf" -F &
fpm=$!
nginx -p "$work" -c "$work/nginx.conf" -g "daemon off; pid $work/nginx.pid;" &
ngx=$!
trap 'kill $fpm $ngx 2>/dev/null || true' EXIT
wait_http "http://127.0.0.1:18330/sleep.php?s=0"
# Saturation: 12 concurrent 1 s requests against 2 children.
for i in $(seq 12); do curl -s -m 10 -o /dev/null "http://127.0.0.1:18330/sleep.php?s=1" & done
wait $(jobs -p | grep -v -e "^$fpm\$" -e "^$ngx\$") 2>/dev/null || true
# request_terminate_timeout, twice.
curl -s -m 10 -o /dev/null "http://127.0.0.1:18330/sleep.php?s=5" &
curl -s -m 10 -o /dev/null "http://127.0.0.1:18330/sleep.php?s=5" &
wait $(jobs -p | grep -v -e "^$fpm\$" -e "^$ngx\$") 2>/dev/null || true
# A child killed from outside (as the kernel OOM killer would).
kill -KILL "$(pgrep -P $fpm | head -1)"; sleep 0.5
# "seems busy": dynamic pool whose idle children run out for several seconds.
for i in $(seq 45); do curl -s -m 10 -o /dev/null "http://127.0.0.1:18330/busy/x?s=5" & done
wait $(jobs -p | grep -v -e "^$fpm\$" -e "^$ngx\$") 2>/dev/null || true
# memory_limit, in both pools.
curl -s -m 5 -o /dev/null "http://127.0.0.1:18330/mem.php" || true
curl -s -m 5 -o /dev/null "http://127.0.0.1:18330/tcp/x" || true
curl -s -m 5 -o /dev/null "http://127.0.0.1:18330/mem.php" || true
# A second instance cannot bind the tcp pool's port.
sed -e "s#$work/fpm.pid#$work/fpm2.pid#; s#$work/fpm.log#$work/fpm2.log#; s#$work/www.sock#$work/www2.sock#; s#$work/busy.sock#$work/busy2.sock#" "$work/fpm.conf" > "$work/fpm2.conf"
timeout 5 php-fpm8.2 -y "$work/fpm2.conf" -F || true
sleep 0.5
kill -QUIT $fpm; wait $fpm 2>/dev/null || true
kill -QUIT $ngx; wait $ngx 2>/dev/null || true
trap - EXIT
cp "$work/fpm.log" "$out/fpm.log"
cp "$work/fpm2.log" "$out/bind.log"
cp "$work/php-error.log" "$out/php-error.log"

# PHP's own error log, written by the same engine from the CLI: a
# max_execution_time kill, an app's error_log() line, an uncaught exception
# with its stack trace.
rm -f "$work/php-cli-error.log"
php -d max_execution_time=1 -d log_errors=1 -d error_log="$work/php-cli-error.log" -d display_errors=0 \
  -r 'set_time_limit(1); $x=0; while(true){$x++;}' || true
php -d log_errors=1 -d error_log="$work/php-cli-error.log" -d display_errors=0 \
  -r '$s = @fsockopen("127.0.0.1", 18332, $errno, $errstr, 1); if (!$s) { error_log("redis connect failed: $errstr ($errno)"); } throw new RuntimeException("cache unavailable");' || true
cp "$work/php-cli-error.log" "$out/php-cli-error.log"
echo "$(php-fpm8.2 -v | head -1) (Debian $(dpkg-query -W -f='${Version}' php8.2-fpm)), nginx $(dpkg-query -W -f='${Version}' nginx)" > "$out/VERSION"
