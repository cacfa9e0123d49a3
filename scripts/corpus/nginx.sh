#!/usr/bin/env bash
# Shared by samples.sh and gen.sh: writes and runs a private nginx (Debian's
# 1.22) on 127.0.0.1 that proxies to upstreams failing in the ways DESIGN.md
# lists, and logs the same requests in several log_formats.
#
# Ports from BASE (default 18000): BASE front, BASE+1 live backend (200/404),
# BASE+2 backend that closes without answering (return 444 -> premature
# close), BASE+3 slow backend (limit_req delays requests past the front's
# 300 ms proxy_read_timeout -> 504; beyond its burst it answers 503 itself),
# BASE+8 and BASE+9 nothing listens (refused). A unix socket that does not
# exist; an upstream block with a dead and a live server (multi-value
# fields); error_page to a named location after a failure (" : " groups); an
# upstream whose servers are all dead (no live upstreams); limit_req at the
# front (503 without upstream).
#
# usage: source nginx.sh; corpus_nginx_conf DIR BASE FORMATS; corpus_nginx_start DIR; ...; corpus_nginx_stop DIR
# FORMATS: "all" logs every format to access_<name>.log, "ext" logs only the
# ext format to access.log (the benchmark corpus).

# The log_format strings, one per line: name<TAB>format. Tests read the
# same strings from parser/testdata/nginx_access/*.format. jsonraw is a JSON
# template with the upstream variables unquoted, as people write it: nginx
# then writes invalid JSON (`"upstream_status":,` without an upstream,
# `"upstream_status":502, 200` with two), which only the template can read.
corpus_formats() {
	printf '%s\t%s\n' \
		combined '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"' \
		ext '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status" cid=$connection rid=$request_id' \
		bare '$remote_addr [$time_local] "$request" $status $upstream_addr $upstream_status $upstream_connect_time $upstream_header_time $upstream_response_time $request_time $msec $host' \
		iso '$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time ${connection}' \
		json 'escape=json {"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status","upstream_connect_time":"$upstream_connect_time","upstream_header_time":"$upstream_header_time","upstream_response_time":"$upstream_response_time","http_referer":"$http_referer","http_user_agent":"$http_user_agent","request_id":"$request_id","connection":$connection,"host":"$host"}' \
		jsonraw 'escape=json {"time":"$time_iso8601","status":$status,"request":"$request","remote_addr":"$remote_addr","body_bytes_sent":$body_bytes_sent,"upstream_addr":"$upstream_addr","upstream_status":$upstream_status,"upstream_connect_time":$upstream_connect_time,"upstream_header_time":$upstream_header_time,"upstream_response_time":$upstream_response_time,"request_time":$request_time}'
}

corpus_nginx_conf() {
	local dir=$1 base=$2 which=$3
	mkdir -p "$dir/html/static" "$dir/tmp"
	chmod 777 "$dir/tmp"
	printf 'hello from the static root\n' >"$dir/html/static/index.html"
	head -c 2048 /dev/zero | tr '\0' 'x' >"$dir/html/static/page.html"
	local formats="" logs="" name fmt esc
	while IFS=$'\t' read -r name fmt; do
		esc=""
		if [[ $fmt == escape=* ]]; then
			esc="${fmt%% *} "
			fmt="${fmt#* }"
		fi
		# combined is built into nginx (and may not be redefined).
		[ "$name" = combined ] || formats+="    log_format $name ${esc}'$fmt';"$'\n'
		if [ "$which" = all ]; then
			logs+="        access_log $dir/access_$name.log $name;"$'\n'
		elif [ "$which" = "$name" ]; then
			logs+="        access_log $dir/access.log $name;"$'\n'
		fi
	done < <(corpus_formats)
	local user=""
	[ "$(id -u)" = 0 ] && user="user root;"
	cat >"$dir/nginx.conf" <<CONF
$user
worker_processes 1;
error_log $dir/error.log info;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
$formats
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
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
        location /ok { proxy_pass http://127.0.0.1:$((base + 1)); }
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
        location / { return 200 "ok\\n"; }
        location /ok/missing { return 404; }
        # The application itself answering 502/503: upstream_status carries
        # it and, unlike a failed connection, so does upstream_header_time.
        location /ok/app502 { return 502; }
        location /ok/app503 { return 503; }
    }
    server {
        listen 127.0.0.1:$((base + 2));
        location / { return 444; }
    }
    server {
        listen 127.0.0.1:$((base + 3));
        # limit_req runs after the rewrite phase, so the answer must come
        # from the content phase (try_files), not from return.
        root $dir/html;
        location / { limit_req zone=slow burst=100; try_files /static/index.html =404; }
    }
}
CONF
}

corpus_nginx_start() {
	local dir=$1
	nginx -t -q -p "$dir" -c "$dir/nginx.conf" -g "daemon on;" 2>&1 | grep -v 'the "user" directive' || true
	nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon on;"
	for _ in $(seq 50); do
		[ -s "$dir/nginx.pid" ] && return 0
		sleep 0.1
	done
	echo "nginx did not start" >&2
	return 1
}

# Stops only the nginx whose pid file is in DIR, and waits for it.
corpus_nginx_stop() {
	local dir=$1 pid
	[ -s "$dir/nginx.pid" ] || return 0
	pid=$(cat "$dir/nginx.pid")
	kill -QUIT "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
}
