#!/usr/bin/env bash
# php-mariadb-too-many: a PHP page (php-fpm, mysqli) opens a MariaDB connection
# per request; MariaDB (Debian 10.11) runs with max_connections = 4 and a burst
# of slow reports fills it. mysqli throws mysqli_sql_exception "Too many
# connections" (PHP 8.1+ default MYSQLI_REPORT_ERROR|STRICT), nobody catches it:
# PHP's fatal error goes to FastCGI stderr (nginx's error log), the page
# answers 500. cause dependency_failure. Held-out round 7.
NAME=php-mariadb-too-many
source "$(dirname "$0")/../common/lib.sh"
source "$(dirname "$0")/../blind-common/lib.sh"
WORK="${SCN_WORK_ROOT:-/tmp/blind2}/$NAME"
NGX=39020 FPM=39021 DB=39022

command -v mariadbd >/dev/null || { log "needs Debian's mariadb-server and php8.2-mysql"; exit 1; }
php -m | grep -qx mysqli || { log "needs php8.2-mysql"; exit 1; }
port_free $NGX $FPM $DB
prepare
mkdir -p "$WORK/www" "$WORK/db"
chown mysql: "$WORK/db"
cat >"$WORK/my.cnf" <<CNF
[mysqld]
user = mysql
datadir = $WORK/db/data
socket = $WORK/db/mysqld.sock
pid-file = $WORK/db/mysqld.pid
bind-address = 127.0.0.1
port = $DB
max_connections = 4
log_error = $WORK/mariadb.log
log_warnings = 2
skip-name-resolve
CNF
mariadb-install-db --defaults-file="$WORK/my.cnf" --auth-root-authentication-method=normal >"$WORK/install.out" 2>&1
touch "$WORK/mariadb.log"; chown mysql: "$WORK/mariadb.log"
spawn mariadbd.out mariadbd --defaults-file="$WORK/my.cnf"
DB_PID=$SPAWNED
on_stop "kill -TERM $DB_PID; wait $DB_PID 2>/dev/null"
wait_port $DB 30
mariadb --defaults-file="$WORK/my.cnf" -S "$WORK/db/mysqld.sock" -uroot <<'SQL'
CREATE DATABASE shop;
CREATE USER 'shop'@'127.0.0.1' IDENTIFIED BY 'shop';
GRANT ALL ON shop.* TO 'shop'@'127.0.0.1';
CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, total DECIMAL(10,2));
INSERT INTO shop.orders (total) VALUES (9.99), (19.99), (5.00);
SQL

cat >"$WORK/www/report.php" <<PHP
<?php
// One connection per request, as most PHP apps do; mysqli throws on errors (PHP 8.1+).
\$db = new mysqli('127.0.0.1', 'shop', 'shop', 'shop', $DB);
\$slow = isset(\$_GET['slow']) ? 1.5 : 0;
\$r = \$db->query("SELECT SLEEP(\$slow) AS s, COUNT(*) AS n, SUM(total) AS t FROM orders");
header('Content-Type: application/json');
echo json_encode(\$r->fetch_assoc()), "\n";
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
pm.max_children = 12
CONF
spawn php-fpm.out php-fpm8.2 -R -y "$WORK/php-fpm.conf" -F
FPM_PID=$SPAWNED
on_stop "kill -QUIT $FPM_PID; wait $FPM_PID 2>/dev/null"
wait_port $FPM

{ nginx_head; cat <<CONF
    server {
        listen 127.0.0.1:$NGX;
        server_name shop.local;
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
mark "MariaDB $(mariadbd --version | awk '{print $3}') (max_connections 4) on 127.0.0.1:$DB, php-fpm $(php-fpm8.2 -v | head -1 | awk '{print $2}') on 127.0.0.1:$FPM, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 6 --duration 42 --paths '/report.php=5,/index.php=1,/missing.php=1'
sleep 14
burst "burst of slow reports (1.5 s queries), 10 s" --rate 12 --duration 10 --paths '/report.php?slow=1=1'
wind_down

cat >"$WORK/README.in" <<MD
# php-mariadb-too-many

A PHP report page (\`report.php\`, mysqli, one connection per request) under Debian's php-fpm
$(php-fpm8.2 -v | head -1 | awk '{print $2}') (TCP \`127.0.0.1:$FPM\`, 12 static children, PHP's default \`error_log\`) behind nginx
(\`127.0.0.1:$NGX\`) reads from MariaDB $(mariadbd --version | awk '{print $3}') (Debian, \`127.0.0.1:$DB\`, \`max_connections = 4\`).
Under a steady 6 requests/s a 10 s burst of slow reports (1.5 s queries, 12/s) fills MariaDB's connections;
\`new mysqli()\` throws \`mysqli_sql_exception: Too many connections\` (PHP 8.1+ reports errors as exceptions),
nothing catches it, PHP's fatal error with its stack goes to the FastCGI stderr stream, so **nginx** logs it
(\`FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught mysqli_sql_exception: Too many
connections in ...\`), and the page answers **500**. MariaDB's log (\`log_warnings = 2\`) shows nothing of it
by default at that level except aborted connections.

The truth: dependency_failure at php-fpm (\`127.0.0.1:$FPM\`); no \`dependency\` key: the message does not name
the address (the host and port are separate arguments in the stack's \`mysqli->__construct(...)\` frame).

Held-out round 7.

Files: \`access.log\`, \`error.log\` (nginx, with PHP's messages), \`php-fpm.log\`, \`mariadb.log\`.

Regenerate: \`scripts/scenarios/php-mariadb-too-many/run.sh\` (Debian: mariadb-server php8.2-fpm php8.2-mysql).
MD
finish --copy access.log --copy error.log --copy php-fpm.log --copy mariadb.log \
  --expect "error.log:Too many connections" \
  --incident "upstream=127.0.0.1:$FPM;cause=dependency_failure;match=ua=127.0.0.1:$FPM" \
  --description "PHP pages answer 500 while MariaDB (127.0.0.1:$DB, max_connections 4) refuses new connections: Too many connections" \
  --notes "The dependency is MariaDB on 127.0.0.1:$DB; PHP's message does not name the address." \
  --readme "$WORK/README.in"
