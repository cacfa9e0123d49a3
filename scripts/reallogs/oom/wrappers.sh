#!/usr/bin/env bash
# Wrap the real kernel OOM lines the way other real tools do, so the envelope
# parser is tested on their exact output:
#   syslog-rfc5424.log  util-linux `logger --rfc5424` as received on UDP 127.0.0.1:18201
#   syslog-rfc3164.log  util-linux `logger --rfc3164`, same listener
#   grep.log            GNU grep -H and -Hn over the capture files
# Usage: scripts/reallogs/oom/wrappers.sh [OUTDIR] (default parser/testdata/envelope/wrappers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$root/parser/testdata/envelope/wrappers}
real=parser/testdata/kernel/real
port=18201
mkdir -p "$out"
cd "$root"

listen() { # capture N datagrams into $1
	python3 - "$1" "$2" "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[3])))
s.settimeout(5)
with open(sys.argv[1], 'wb') as f:
    for _ in range(int(sys.argv[2])):
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            break
        f.write(data.rstrip(b'\n') + b'\n')
PY
}

msgs=$(grep -E 'invoked oom-killer|oom-kill:|Killed process' "$real/dmesg.log" | sed 's/^\[[^]]*\] //')
n=$(printf '%s\n' "$msgs" | wc -l)
for proto in rfc5424 rfc3164; do
	listen "$out/syslog-$proto.log" "$n" &
	lp=$!
	sleep 0.5
	printf '%s\n' "$msgs" | while IFS= read -r m; do
		logger --$proto -n 127.0.0.1 -P "$port" -d -t kernel -p kern.err -- "$m"
	done
	wait "$lp"
done

{
	grep -H -E 'oom-kill:|Killed process' "$real/dmesg.log"
	grep -Hn -E 'invoked oom-killer' "$real/dmesg-iso.log"
	grep -H 'Killed process' "$real/kmsg.log"
} >"$out/grep.log"
wc -l "$out"/*
