#!/usr/bin/env bash
# Produces real nginx error-log lines for every proxy_error class of
# DESIGN.md by making a private nginx fail for real, one scenario at a time.
#
#   scripts/reallogs/nginx/run.sh [OUTDIR]   (default /tmp/nginxerr/reallogs)
#
# Writes OUTDIR/<scenario>.log: the error-log lines each scenario produced
# (error_log ... info, so notice/info lines are there too), and
# OUTDIR/versions.txt. Needs root (a network namespace for the unreachable
# and connect-timeout cases), Debian's nginx and libnginx-mod-stream, curl,
# python3. Everything listens on 127.0.0.1 / ::1 ports 18100-18199 or inside
# its own network namespace; every process it starts is stopped by PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/nginxerr/reallogs}
run=$(mktemp -d /tmp/nginxerr-run.XXXXXX)
ns=culprit-nginxerr
mkdir -p "$out" "$run"/{logs,tmp,b,c,d}
pids=()

if ! [ -f /usr/lib/nginx/modules/ngx_stream_module.so ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnginx-mod-stream >/dev/null
fi

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

python3 "$here/backends.py" "$run" >"$run/backends.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$run/backends.out" 2>/dev/null && break; sleep 0.1; done

common() { # $1 = instance dir
  cat <<EOF
user root;
error_log $1/error.log info;
pid $1/nginx.pid;
EOF
}
http_common() { # $1 = instance dir
  cat <<EOF
    access_log $1/access.log;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    proxy_connect_timeout 1s;
    proxy_read_timeout 1s;
    proxy_send_timeout 1s;
EOF
}

# --- instance A: the main proxy, every per-request failure -------------------
A=$run
cat >"$A/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
$(common "$A")
worker_processes 1;
events { worker_connections 512; }
http {
$(http_common "$A")
    client_max_body_size 64m;
    limit_req_zone \$binary_remote_addr zone=perip:1m rate=1r/m;
    limit_req_zone \$binary_remote_addr zone=burst:1m rate=1r/s;
    limit_req_zone \$binary_remote_addr zone=dry:1m rate=1r/m;
    limit_conn_zone \$binary_remote_addr zone=addr:1m;
    upstream deadgroup {
        server 127.0.0.1:18198 max_fails=1 fail_timeout=60s;
        server 127.0.0.1:18199 max_fails=1 fail_timeout=60s;
    }
    upstream app_sock { server unix:$A/full.sock; }
    server {
        listen 127.0.0.1:18100;
        listen [::1]:18100;
        server_name proxy.test;
        resolver 127.0.0.1:18160 valid=1s;
        resolver_timeout 1s;
        location /refused    { proxy_pass http://127.0.0.1:18199; }
        location /v6         { proxy_pass http://[::1]:18199; }
        location /nosock     { proxy_pass http://unix:$A/missing.sock:/app; }
        location /fullsock   { proxy_pass http://app_sock; }
        location /backlog    { proxy_pass http://127.0.0.1:18159; }
        location /sleep      { proxy_pass http://127.0.0.1:18150; }
        location /close      { proxy_pass http://127.0.0.1:18150; }
        location /midclose   { proxy_pass http://127.0.0.1:18150; }
        location /reset      { proxy_pass http://127.0.0.1:18150; }
        location /midreset   { proxy_pass http://127.0.0.1:18150; }
        location /garbage    { proxy_pass http://127.0.0.1:18150; }
        location /badheader  { proxy_pass http://127.0.0.1:18150; }
        location /badchunk   { proxy_pass http://127.0.0.1:18150; }
        location /bigheader  { proxy_buffer_size 1k; proxy_pass http://127.0.0.1:18150; }
        location /big        { proxy_pass http://127.0.0.1:18150; }
        location /upload     { proxy_pass http://127.0.0.1:18156; }
        location /pipe       { proxy_pass http://127.0.0.1:18157; }
        location /dead       { proxy_pass http://deadgroup; }
        location /dns-nx     { set \$b "api.nx.test";   proxy_pass http://\$b:18150; }
        location /dns-fail   { set \$b "api.fail.test"; proxy_pass http://\$b:18150; }
        location /dns-slow   { set \$b "api.slow.test"; proxy_pass http://\$b:18150; }
        location /tls        { proxy_pass https://127.0.0.1:18150; }
        location /tls-close  { proxy_pass https://127.0.0.1:18158; }
        location /limited    { limit_req zone=perip; proxy_pass http://127.0.0.1:18150; }
        location /delayed    { limit_req zone=burst burst=5; proxy_pass http://127.0.0.1:18150; }
        location /dryrun     { limit_req zone=dry; limit_req_dry_run on; proxy_pass http://127.0.0.1:18150; }
        location /connlimit  { limit_conn addr 1; proxy_read_timeout 5s; proxy_pass http://127.0.0.1:18150/sleep; }
        location /missing    { root $A/www; }
        location ~ ^/fpm/(.+\.php)$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $A/fpm/www/\$1;
            fastcgi_read_timeout 1s;
            fastcgi_pass unix:$A/fpm/app.sock;
        }
        location ~ ^/fpmterm/(.+\.php)$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $A/fpm/www/\$1;
            fastcgi_read_timeout 10s;
            fastcgi_pass unix:$A/fpm/app.sock;
        }
    }
    server {
        listen 127.0.0.1:18104;
        server_name noresolver.test;
        location / { set \$b "api.nx.test"; proxy_pass http://\$b:18150; }
    }
}
stream {
    proxy_connect_timeout 1s;
    server { listen 127.0.0.1:18101; proxy_pass 127.0.0.1:18199; }
    server { listen 127.0.0.1:18107 udp; proxy_timeout 1s; proxy_pass 127.0.0.1:18199; }
    server { listen 127.0.0.1:18108 udp; proxy_timeout 1s; proxy_pass 127.0.0.1:18160; }
    server { listen 127.0.0.1:18102; proxy_timeout 1s; proxy_pass 127.0.0.1:18156; }
    server { listen 127.0.0.1:18103; proxy_pass unix:$A/missing.sock; }
}
EOF

# --- php-fpm behind instance A: one child, a one-slot queue ------------------
mkdir -p "$A/fpm/www"
cat >"$A/fpm/php-fpm.conf" <<EOF
[global]
pid = $A/fpm/fpm.pid
error_log = $A/fpm/fpm.log
daemonize = no
[app]
user = root
listen = $A/fpm/app.sock
listen.mode = 0666
listen.backlog = 0
pm = static
pm.max_children = 1
request_terminate_timeout = 2s
EOF
echo '<?php sleep(3); echo "slow\n";' >"$A/fpm/www/sleep.php"
echo '<?php posix_kill(getmypid(), 9);' >"$A/fpm/www/kill.php"
echo '<?php nope();' >"$A/fpm/www/fatal.php"
echo '<?php sleep(5);' >"$A/fpm/www/term.php"

# --- instance B: worker_connections too small --------------------------------
B=$run/b
cat >"$B/nginx.conf" <<EOF
$(common "$B")
worker_processes 1;
events { worker_connections 6; }
http {
$(http_common "$B")
    server { listen 127.0.0.1:18110; location / { proxy_read_timeout 5s; proxy_pass http://127.0.0.1:18150/sleep; } }
}
EOF

# --- instance C: a tiny file descriptor limit --------------------------------
C=$run/c
cat >"$C/nginx.conf" <<EOF
$(common "$C")
worker_processes 1;
worker_rlimit_nofile 12;
events { worker_connections 64; }
http {
$(http_common "$C")
    server { listen 127.0.0.1:18120; location / { proxy_read_timeout 5s; proxy_pass http://127.0.0.1:18150/sleep; } }
}
EOF

# --- instance D: its own network namespace with unroutable destinations ------
D=$run/d
cat >"$D/nginx.conf" <<EOF
$(common "$D")
worker_processes 1;
events { worker_connections 64; }
http {
$(http_common "$D")
    server {
        listen 127.0.0.1:18130;
        server_name netns.test;
        location /hostunreach { proxy_pass http://10.113.0.7:8080; }
        location /netunreach  { proxy_pass http://10.101.0.7:8080; }
        location /v6unreach   { proxy_pass http://[fd00:113::7]:8080; }
        location /blackhole   { proxy_pass http://10.110.0.2:8080; }
    }
}
EOF
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# "unreachable" routes answer connect() with EHOSTUNREACH (113); 10.101/16
# has no route at all (ENETUNREACH, 101); 10.110.0.0/24 is routed into lo
# where no address owns it and forwarding is off, so SYNs vanish and connects
# time out.
ip netns exec "$ns" ip route add unreachable 10.113.0.0/16
ip netns exec "$ns" ip -6 route add unreachable fd00:113::/32
ip netns exec "$ns" ip route add 10.110.0.0/24 dev lo

start() { # $1 = instance dir, [netns]
  if [ -n "${2:-}" ]; then
    ip netns exec "$2" nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log" -g 'daemon off;' &
  else
    nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log" -g 'daemon off;' &
  fi
  pids+=($!)
  sleep 0.5
}
scenario() { # $1 = name; the rest runs; the lines it produced go to OUT/name.log
  local name=$1; shift
  local -A before
  for f in "$A" "$B" "$C" "$D"; do before[$f]=$(stat -c %s "$f/error.log" 2>/dev/null || echo 0); done
  "$@" || true
  sleep "${SETTLE:-1.5}"
  : >"$out/$name.log"
  for f in "$A" "$B" "$C" "$D"; do
    tail -c +"$((before[$f] + 1))" "$f/error.log" >>"$out/$name.log" 2>/dev/null || true
  done
  echo "$name: $(wc -l <"$out/$name.log") lines" >&2
}
get() { curl -s -o /dev/null --max-time "${T:-6}" "$@" || true; }
par() { # $1 = count, rest = curl args, concurrently
  local n=$1; shift
  local cp=()
  for _ in $(seq "$n"); do get "$@" & cp+=($!); done
  wait "${cp[@]}" || true
}
U=http://127.0.0.1:18100

# The startup itself: notices (and a warning about the tiny fd limit of C),
# then a second master that cannot bind.
start_all() {
  php-fpm8.2 -R -F -y "$A/fpm/php-fpm.conf" >/dev/null 2>&1 &
  pids+=($!)
  start "$A"; start "$B"; start "$C"; start "$D" "$ns"
}
scenario startup start_all
scenario bind_in_use bash -c "nginx -p '$A' -c '$A/nginx.conf' -e '$A/error.log' -g 'daemon off;' 2>/dev/null"

scenario refused bash -c "$(declare -f get); get $U/refused; get '$U/refused?a=1,b=\"2\"' -H 'Referer: http://ref.test/a,b'; get -g 'http://[::1]:18100/refused' -H 'Host: [::1]:18100'; get $U/v6"
scenario socket_missing bash -c "$(declare -f get); get $U/nosock/x; get $U/nosock/y -H 'Host: app.test'; get http://127.0.0.1:18103/"
scenario overloaded bash -c "$(declare -f get par); T=4 par 6 $U/fullsock/api"
scenario connect_timeout bash -c "$(declare -f get par); T=4 par 4 $U/backlog/x; ip netns exec $ns curl -s -o /dev/null --max-time 4 http://127.0.0.1:18130/blackhole/q"
scenario read_timeout bash -c "$(declare -f get); get $U/sleep/a; get '$U/sleep/b?q=\"x\"' -H 'Referer: http://r.test/'"
scenario send_timeout bash -c "head -c 33554432 /dev/zero >$run/reqbody; curl -s -o /dev/null --max-time 8 --data-binary @$run/reqbody $U/upload/u; curl -s -o /dev/null --max-time 8 --data-binary @$run/reqbody $U/upload/v"
scenario broken_pipe bash -c "for i in 1 2 3; do curl -s -o /dev/null --max-time 8 --data-binary @$run/reqbody $U/pipe/p\$i; done"
scenario premature_close bash -c "$(declare -f get); get $U/close/a; get $U/midclose/b"
scenario reset bash -c "$(declare -f get); get $U/reset/a; get $U/midreset/b"
scenario invalid bash -c "$(declare -f get); get $U/garbage/a; get $U/badheader/b; get $U/badchunk/c"
scenario header_too_big bash -c "$(declare -f get); get $U/bigheader/a; get $U/bigheader/b -H 'Host: big.test'"
scenario no_live bash -c "$(declare -f get); get $U/dead/1; get $U/dead/2; get $U/dead/3"
scenario dns bash -c "$(declare -f get); get $U/dns-nx; get $U/dns-fail; T=4 get $U/dns-slow; get http://127.0.0.1:18104/x"
scenario dns_config bash -c "mkdir -p $run/e; printf 'error_log $run/e/error.log;\npid $run/e/nginx.pid;\nevents {}\nhttp { server { listen 127.0.0.1:18105; location / { proxy_pass http://backend.nx.test:8080; } } }\n' >$run/e/nginx.conf; timeout 10 nginx -t -p $run/e -c $run/e/nginx.conf -e $A/error.log 2>/dev/null"
scenario tls bash -c "$(declare -f get); get $U/tls/a; get $U/tls-close/b"
scenario rate_limited bash -c "$(declare -f get); for i in 1 2 3; do get $U/limited/\$i; done; for i in 1 2 3; do get $U/dryrun/\$i; done; for i in 1 2 3 4; do get $U/delayed/\$i & done; wait"
scenario conn_limited bash -c "$(declare -f get par); T=6 par 3 $U/connlimit"
scenario worker_connections bash -c "$(declare -f get par); T=6 par 10 http://127.0.0.1:18110/w"
scenario fd_exhausted bash -c "$(declare -f get par); T=6 par 10 http://127.0.0.1:18120/f"
scenario unreachable bash -c "for p in hostunreach netunreach v6unreach; do ip netns exec $ns curl -s -o /dev/null --max-time 4 http://127.0.0.1:18130/\$p/x; done"
scenario client_closed bash -c "curl -s -o /dev/null --max-time 1 $U/sleep/slow; python3 -c '
import socket, struct, time
s = socket.create_connection((\"127.0.0.1\", 18100)); s.close()
s = socket.create_connection((\"127.0.0.1\", 18100))
s.sendall(b\"POST /sleep/body HTTP/1.1\\r\\nHost: proxy.test\\r\\nContent-Length: 100000\\r\\n\\r\\nabc\"); time.sleep(0.3); s.close()
s = socket.create_connection((\"127.0.0.1\", 18100))
s.sendall(b\"GET /big/file HTTP/1.1\\r\\nHost: proxy.test\\r\\n\\r\\n\"); time.sleep(0.5); s.recv(1000)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(\"ii\", 1, 0)); s.close()
'"
scenario missing_file bash -c "$(declare -f get); get $U/missing/nothing.html"
# php-fpm (FastCGI wordings): a child killed mid-request, a PHP fatal error,
# php-fpm's own request_terminate_timeout, nginx's fastcgi_read_timeout, and
# the one-child pool with a full queue (EAGAIN) under concurrent requests.
scenario fpm_kill bash -c "$(declare -f get); get $U/fpm/kill.php; get $U/fpm/kill.php"
scenario fpm_fatal bash -c "$(declare -f get); get $U/fpm/fatal.php"
SETTLE=3 scenario fpm_terminate bash -c "$(declare -f get); T=12 get $U/fpmterm/term.php"
SETTLE=4 scenario fpm_timeout bash -c "$(declare -f get); get $U/fpm/sleep.php"
SETTLE=4 scenario fpm_overloaded bash -c "$(declare -f get par); T=5 par 6 $U/fpm/sleep.php"
# stream over UDP: ICMP port unreachable comes back as ECONNREFUSED; a
# resolver that ignores a runt datagram leaves the session to time out.
scenario stream_udp bash -c "python3 -c '
import socket
for port in (18107, 18108):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b\"ping\", (\"127.0.0.1\", port))
    s.settimeout(2)
    try: s.recvfrom(100)
    except OSError: pass
'"
SETTLE=0.5 scenario stream_timeout bash -c "(sleep 3) | timeout 4 python3 -c 'import socket,time; s=socket.create_connection((\"127.0.0.1\",18102)); time.sleep(2.5)'"

# Graceful stop writes its own notices.
scenario shutdown bash -c "kill -QUIT \$(cat $A/nginx.pid); sleep 1"

{ nginx -v 2>&1; uname -sr; python3 --version; curl --version | head -1; } >"$out/versions.txt"
echo "captured into $out" >&2
