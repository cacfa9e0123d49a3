#!/usr/bin/env bash
# Produces the real nginx access log samples under
# parser/testdata/nginx_access/: one request of each failure kind (and the
# escape cases), logged by a private nginx in every format of nginx.sh.
# usage: scripts/corpus/samples.sh [OUTDIR]   (ports 18000-18009)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../parser/testdata/nginx_access}
source "$here/nginx.sh"
base=${BASE:-18000}
dir=$(mktemp -d /tmp/culprit-samples.XXXXXX)
trap 'corpus_nginx_stop "$dir"; rm -rf "$dir"' EXIT
corpus_nginx_conf "$dir" "$base" all
corpus_nginx_start "$dir"

u="http://127.0.0.1:$base"
c() { curl -s -o /dev/null --max-time 5 "$@" || true; }
# raw sends bytes curl would refuse to send (quotes, control and non-ASCII
# bytes in the request line) on a plain TCP connection.
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$base"
	printf "$1" >&3
	timeout 3 cat <&3 >/dev/null || true
	exec 3<&-
}

c -A 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' -e "$u/static/" "$u/ok/first?x=1"
c "$u/static/page.html"
c "$u/missing.html"
c "$u/ok/missing"
c "$u/ok/app502"
c "$u/ok/app503"
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
c -X POST --data 'a=1&b=2' "$u/ok/post"
c -I "$u/ok/head"
c --http1.0 "$u/ok/http10"
c -A 'agent with "quotes" and \back\slash' -e 'http://ref.test/?q="quoted"' "$u/ok/quotes"
raw 'GET /q?a="x"&b=\xff\xfe HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n'
raw 'GET /caf\xc3\xa9/\xe2\x82\xac HTTP/1.1\r\nHost: front.test\r\nUser-Agent: t\xc3\xa9st\r\nConnection: close\r\n\r\n'
raw 'GET /tab\there HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n'
raw 'GET /\r\n'
raw 'garbage\r\n\r\n'
raw '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x9b\x1c "tls"\r\n\r\n'
sleep 0.5
corpus_nginx_stop "$dir"

mkdir -p "$out"
while IFS=$'\t' read -r name fmt; do
	printf '%s\n' "$fmt" >"$out/$name.format"
	sed -e "s#$dir#/tmp/culprit-samples#g" "$dir/access_$name.log" >"$out/$name.log"
done < <(corpus_formats)
sed -e "s#$dir#/tmp/culprit-samples#g" "$dir/error.log" >"$out/error.log"
wc -l "$out"/*.log
