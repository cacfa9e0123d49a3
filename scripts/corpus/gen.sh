#!/usr/bin/env bash
# Generates the parser benchmark corpus with real nginx under real load:
# nginx.sh's private nginx (the "ext" format: combined + $request_time, the
# upstream variables, $connection, $request_id) and wrk driving mix.lua at it
# for DURATION (default 10s) on 127.0.0.1.
# Writes DIR/access.log and DIR/error.log (error_log at info level).
# usage: scripts/corpus/gen.sh DIR   (ports BASE..BASE+9, default 18010)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: gen.sh DIR}
source "$here/nginx.sh"
base=${BASE:-18010}
dur=${DURATION:-10s}
command -v wrk >/dev/null || { echo "wrk not installed (scripts/deps.sh)" >&2; exit 1; }
dir=$(mktemp -d /tmp/culprit-corpus.XXXXXX)
trap 'corpus_nginx_stop "$dir"; rm -rf "$dir"' EXIT
corpus_nginx_conf "$dir" "$base" ext
corpus_nginx_start "$dir"
wrk -t1 -c64 -d"$dur" --timeout 5s -s "$here/mix.lua" "http://127.0.0.1:$base/" | sed 's/^/wrk: /'
corpus_nginx_stop "$dir"
mkdir -p "$out"
mv "$dir/access.log" "$out/access.log"
mv "$dir/error.log" "$out/error.log"
corpus_formats | awk -F"\t" '$1 == "ext" { print $2 }' >"$out/access.format"
echo "corpus: $(wc -l <"$out/access.log") access lines ($(du -h "$out/access.log" | cut -f1)), $(wc -l <"$out/error.log") error lines in $out"
