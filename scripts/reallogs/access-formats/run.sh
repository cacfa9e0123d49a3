#!/usr/bin/env bash
# Produces real nginx access logs in log_formats seen in the wild, for
# parser.InferAccessFormat's tests (parser/testdata/access-formats/).
#
#   scripts/reallogs/access-formats/run.sh [OUTDIR]   (default parser/testdata/access-formats)
#
# One private nginx (Debian's 1.22) on 127.0.0.1:31000 logs the same requests
# in every format of formats.tsv (development set) and heldout*.tsv
# (formats kept out of development, written to OUTDIR/heldout*/). Behind it: a live
# upstream answering 200, 404, 500 and 502 itself (31001), one closing
# without answering (31002, premature close -> 502), a slow one (31003,
# past proxy_read_timeout -> 504), ports where nothing listens (31008,
# 31009: refused -> 502), an upstream block with a dead and a live server
# and error_page to a named location (multi-value upstream fields, ", " and
# " : "), a block of dead servers (no live upstreams: the block's name as
# address), limit_req (503 without upstream) and static files (no upstream:
# "-" in every upstream field). NAME.format is the true log_format, NAME.log
# what nginx wrote with it. Ports 31000-31009 only; the nginx it starts is
# stopped by its pid file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../parser/testdata/access-formats}
base=31000
mkdir -p /tmp/infer
dir=$(mktemp -d /tmp/infer/access-formats.XXXXXX)
stop() {
	[ -s "$dir/nginx.pid" ] || return 0
	local pid
	pid=$(cat "$dir/nginx.pid")
	kill -QUIT "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
}
trap 'stop; rm -rf "$dir"' EXIT
mkdir -p "$dir/html/static" "$dir/tmp"
chmod 777 "$dir/tmp"
printf 'hello from the static root\n' >"$dir/html/static/index.html"
head -c 2048 /dev/zero | tr '\0' 'x' >"$dir/html/static/page.html"

formats="" logs=""
while IFS=$'\t' read -r name src fmt; do
	[[ -z $name || $name == \#* ]] && continue
	esc=""
	if [[ $fmt == escape=* ]]; then
		esc="${fmt%% *} "
		fmt="${fmt#* }"
	fi
	formats+="    log_format $name ${esc}'$fmt';"$'\n'
	logs+="        access_log $dir/access_$name.log $name;"$'\n'
done < <(cat "$here/formats.tsv" "$here/heldout.tsv" "$here/heldout2.tsv" "$here/heldout3.tsv")

user=""
[ "$(id -u)" = 0 ] && user="user root;"
cat >"$dir/nginx.conf" <<CONF
$user
worker_processes 1;
error_log $dir/error.log info;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    # Variables the formats use that a plain nginx does not define:
    # ingress-nginx's, GitLab's filtered URI and referer, the ELK map.
    map \$host \$proxy_upstream_name { default "default-front-80"; }
    map \$host \$proxy_alternative_upstream_name { default ""; }
    map \$request_id \$req_id { default \$request_id; }
    map \$request_uri \$filtered_request_uri { default \$request_uri; }
    map \$http_referer \$filtered_http_referer { default \$http_referer; }
    map \$upstream_response_time \$upstream_response_timer { default \$upstream_response_time; "" 0; }
    # Nginx Proxy Manager sets \$server to the proxied host per server block.
    map \$host \$server { default "127.0.0.1"; }
$formats
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    gzip on;
    gzip_min_length 100;
    limit_req_zone \$binary_remote_addr zone=front:1m rate=1r/s;
    limit_req_zone \$binary_remote_addr zone=slow:1m rate=2r/s;

    upstream mixed { server 127.0.0.1:$((base + 9)) max_fails=0; server 127.0.0.1:$((base + 1)); }
    upstream deadpool { server 127.0.0.1:$((base + 9)); server 127.0.0.1:$((base + 8)); }

    server {
        listen 127.0.0.1:$base;
        server_name front.test;
$logs
        root $dir/html;
        proxy_connect_timeout 1s;
        proxy_read_timeout 300ms;
        location /static/ { }
        location /api { proxy_pass http://127.0.0.1:$((base + 1)); }
        location /refused { proxy_pass http://127.0.0.1:$((base + 9)); }
        location /closing { proxy_pass http://127.0.0.1:$((base + 2)); }
        location /slow { proxy_pass http://127.0.0.1:$((base + 3)); }
        location /mixed { proxy_pass http://mixed; }
        location /nolive { proxy_pass http://deadpool; }
        location /sock { proxy_pass http://unix:$dir/nope.sock; }
        location /fallback {
            proxy_pass http://127.0.0.1:$((base + 9));
            error_page 502 504 = @live;
        }
        location @live { proxy_pass http://127.0.0.1:$((base + 1)); }
        location /limited { limit_req zone=front; proxy_pass http://127.0.0.1:$((base + 1)); }
    }
    server {
        listen 127.0.0.1:$((base + 1));
        root $dir/html;
        location / { return 200 "ok\\n"; }
        location /api/page { try_files /static/page.html =404; }
        location /api/missing { return 404; }
        location /api/err500 { return 500; }
        # The application answering 502 itself: upstream_header_time has a value.
        location /api/app502 { return 502; }
    }
    server {
        listen 127.0.0.1:$((base + 2));
        location / { return 444; }
    }
    server {
        listen 127.0.0.1:$((base + 3));
        # limit_req delays requests past the front's proxy_read_timeout
        # (504); it runs after rewrite, so the answer comes from try_files.
        root $dir/html;
        location / { limit_req zone=slow burst=100; try_files /static/index.html =404; }
    }
}
CONF
nginx -t -q -p "$dir" -c "$dir/nginx.conf" 2>&1 | grep -v 'the "user" directive' || true
nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon on;"
for _ in $(seq 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done

u="http://127.0.0.1:$base"
browser='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'
c() { curl -s -o /dev/null --max-time 5 "$@" || true; }
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$base"
	printf "$1" >&3
	timeout 3 cat <&3 >/dev/null || true
	exec 3<&-
}
# Three rounds: ordinary traffic first (as a log starts), the failures
# mixed in, so the first lines of a file are not all alike.
for round in 1 2 3; do
	c -A "$browser" -e "$u/static/" "$u/api/users?page=$round"
	c -A "$browser" --compressed "$u/static/page.html"
	c -H 'X-Forwarded-For: 203.0.113.7' "$u/api/orders/$round"
	c -A "$browser" --compressed "$u/api/page"
	c "$u/static/index.html"
	c "$u/missing-$round.html"
	c "$u/api/missing"
	c -X POST --data 'a=1&b=2' "$u/api/submit"
	c "$u/api/err500"
	c "$u/api/app502"
	c "$u/refused"
	c "$u/closing"
	c "$u/slow/warm"
	c "$u/slow/late"
	c "$u/mixed/a"
	c "$u/mixed/b"
	c "$u/fallback"
	c "$u/nolive/1"
	c "$u/nolive/2"
	c "$u/limited/1"
	c "$u/limited/2"
	c "$u/sock"
	c -I "$u/api/head"
	c --http1.0 "$u/api/http10"
	c -A 'agent with "quotes" and \back\slash' -e 'http://ref.test/?q="quoted"' "$u/api/quotes"
	sleep 1.1 # limit_req's next slot
done
raw 'GET /q?a="x"&b=\xff\xfe HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n'
raw 'GET /caf\xc3\xa9/\xe2\x82\xac HTTP/1.1\r\nHost: front.test\r\nUser-Agent: t\xc3\xa9st\r\nConnection: close\r\n\r\n'
raw 'garbage\r\n\r\n'
raw '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x9b\x1c "tls"\r\n\r\n'
sleep 0.5
stop

mkdir -p "$out/heldout" "$out/heldout2" "$out/heldout3"
write() { # $1 tsv, $2 outdir
	while IFS=$'\t' read -r name src fmt; do
		[[ -z $name || $name == \#* ]] && continue
		# The maps above are identities: the true format names the
		# variables they copy, as the parser knows them.
		printf '%b\n' "$fmt" | sed -e 's/\$filtered_request_uri/$request_uri/; s/\$filtered_http_referer/$http_referer/' \
			-e 's/\$upstream_response_timer/$upstream_response_time/; s/\$req_id/$request_id/' >"$2/$name.format"
		sed -e "s#$dir#/tmp/infer/run#g" "$dir/access_$name.log" >"$2/$name.log"
	done <"$1"
}
write "$here/formats.tsv" "$out"
write "$here/heldout.tsv" "$out/heldout"
write "$here/heldout2.tsv" "$out/heldout2"
write "$here/heldout3.tsv" "$out/heldout3"
cat "$here/formats.tsv" "$here/heldout.tsv" "$here/heldout2.tsv" "$here/heldout3.tsv" >"$out/SOURCES.tsv"
nginx -v 2>"$out/versions.txt"
wc -l "$out"/*.log "$out"/heldout/*.log | tail -1
